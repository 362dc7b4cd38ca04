package container

import "strings"

// Match is what a cgroup path says about the container inside it.
type Match struct {
	ID      string  // full container id
	Runtime Runtime // never RuntimeHost
	PodUID  string  // Kubernetes pod uid from a kubepods path, "" if none
}

// scopePrefixes are the unit-name prefixes runtimes give a container's
// cgroup under the systemd driver (and podman under cgroupfs too). Conmon,
// the runtime's monitor process, gets a look-alike scope that is not a
// container; those prefixes are listed first so they never match as one.
var scopePrefixes = [...]struct {
	prefix string
	rt     Runtime
}{
	{"libpod-conmon-", RuntimeHost},
	{"crio-conmon-", RuntimeHost},
	{"docker-", RuntimeDocker},
	{"libpod-", RuntimePodman},
	{"cri-containerd-", RuntimeContainerd},
	{"crio-", RuntimeCRIO},
	{"nerdctl-", RuntimeContainerd},
}

// colonPrefixes are the runtime names in the "slice:prefix:id" form that
// containerd and CRI-O use with the systemd driver on cgroup v1 when the
// path is not turned into a unit (".../kubepods-pod<uid>.slice:cri-containerd:<id>").
var colonPrefixes = map[string]Runtime{
	"cri-containerd": RuntimeContainerd,
	"crio":           RuntimeCRIO,
	"docker":         RuntimeDocker,
	"libpod":         RuntimePodman,
}

// ParseCgroupPath finds the container a cgroup path belongs to. The path is
// relative to its hierarchy's root, as /proc/<pid>/cgroup shows it. The
// deepest component naming a container wins, so a container nested in
// another (docker-in-docker) is reported as itself, and sub-cgroups a
// container makes below its own (systemd's init.scope, podman's
// "container") are ignored. It returns false for host cgroups. It never
// allocates except to rewrite a systemd-escaped pod uid.
func ParseCgroupPath(path string) (Match, bool) {
	rest := path
	for rest != "" {
		var comp string
		if i := strings.LastIndexByte(rest, '/'); i >= 0 {
			comp, rest = rest[i+1:], rest[:i]
		} else {
			comp, rest = rest, ""
		}
		if comp == "" {
			continue
		}
		id, rt, ok := parseComponent(comp, lastComponent(rest))
		if !ok {
			continue
		}
		if rt == RuntimeHost {
			return Match{}, false // a conmon scope: the runtime's helper, on the host
		}
		uid := podUID(comp) // the colon form carries the pod's slice in the same component
		if uid == "" {
			uid = podUID(rest)
		}
		return Match{ID: id, Runtime: rt, PodUID: uid}, true
	}
	return Match{}, false
}

// parseComponent tells whether one path component names a container.
func parseComponent(comp, parent string) (string, Runtime, bool) {
	if i := strings.IndexByte(comp, ':'); i >= 0 {
		prefix, id, ok := strings.Cut(comp[i+1:], ":")
		if rt, known := colonPrefixes[prefix]; ok && known && isContainerID(id) {
			return id, rt, true
		}
		return "", 0, false
	}
	name := strings.TrimSuffix(comp, ".scope")
	for _, p := range scopePrefixes {
		if id, ok := strings.CutPrefix(name, p.prefix); ok {
			if isContainerID(id) {
				return id, p.rt, true
			}
			if p.rt == RuntimeHost && strings.HasSuffix(comp, ".scope") {
				return "", RuntimeHost, true
			}
		}
	}
	if !isContainerID(comp) {
		return "", 0, false
	}
	switch {
	case parent == "docker" || parent == "actions_job":
		return comp, RuntimeDocker, true
	case strings.HasPrefix(parent, "pod") || strings.HasPrefix(parent, "kubepods"):
		return comp, RuntimeCRI, true
	}
	return comp, RuntimeUnknown, true
}

// lastComponent returns the final component of a path.
func lastComponent(p string) string {
	return p[strings.LastIndexByte(p, '/')+1:]
}

// podUID finds a kubepods pod uid in a path: "pod<uid>" under the cgroupfs
// driver, "kubepods-<qos>-pod<uid_with_underscores>.slice" under systemd
// (kind and other nested kubelets prefix it: "kubelet-kubepods-...").
func podUID(path string) string {
	for path != "" {
		var comp string
		if i := strings.LastIndexByte(path, '/'); i >= 0 {
			comp, path = path[i+1:], path[:i]
		} else {
			comp, path = path, ""
		}
		comp, _, _ = strings.Cut(comp, ":")
		if uid, ok := strings.CutPrefix(comp, "pod"); ok && isUID(uid) {
			return uid
		}
		if !strings.Contains(comp, "kubepods") || !strings.HasSuffix(comp, ".slice") {
			continue
		}
		if i := strings.LastIndex(comp, "-pod"); i >= 0 {
			uid := strings.ReplaceAll(comp[i+4:len(comp)-len(".slice")], "_", "-")
			if isUID(uid) {
				return uid
			}
		}
	}
	return ""
}

// isContainerID accepts the 64 lower-case hex digits every supported
// runtime uses. Shorter ids would match too many ordinary names.
func isContainerID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// isUID accepts a canonical 8-4-4-4-12 hex UUID, the form of pod uids.
func isUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
