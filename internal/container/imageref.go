package container

import "strings"

// ParseImageRef splits an image reference as a container was created with
// ("registry:5000/team/app:1.2@sha256:...") into repository, tag and digest.
// A reference with neither tag nor digest gets the tag "latest", which is
// what the runtime pulled. A colon before the last slash belongs to a
// registry's port, not to a tag.
func ParseImageRef(ref string) (repo, tag, digest string) {
	repo = ref
	if i := strings.IndexByte(repo, '@'); i >= 0 {
		repo, digest = repo[:i], repo[i+1:]
	}
	slash := strings.LastIndexByte(repo, '/')
	if i := strings.LastIndexByte(repo, ':'); i > slash {
		repo, tag = repo[:i], repo[i+1:]
	}
	if tag == "" && digest == "" && repo != "" {
		tag = "latest"
	}
	return repo, tag, digest
}

// IsImageID reports whether a container's image reference is an image id
// rather than a name (containers created from an id, or whose tag moved).
func IsImageID(ref string) bool {
	if id, ok := strings.CutPrefix(ref, "sha256:"); ok {
		ref = id
	}
	return isContainerID(ref)
}
