package dockerapi

import (
	"math"
	"strings"
	"time"

	"github.com/vigilsec/vigil/internal/container"
)

// containerInspect is the part of GET /containers/{id}/json Vigil reads.
type containerInspect struct {
	ID      string `json:"Id"`
	Created string
	Name    string
	Image   string // the image id
	State   struct {
		Running   bool
		Pid       int
		StartedAt string
	}
	Config struct {
		Image  string // the reference the container was created with
		User   string
		Labels map[string]string
	}
	HostConfig struct {
		Privileged  bool
		NetworkMode string
		CapAdd      []string
		CapDrop     []string
	}
	Mounts []struct {
		Type        string
		Source      string
		Destination string
		Mode        string
		RW          bool
		Propagation string
	}
}

// imageInspect is the part of GET /images/{id}/json Vigil reads.
type imageInspect struct {
	RepoTags    []string
	RepoDigests []string
}

// info converts an inspection to a container.Info. img may be nil.
func (in *containerInspect) info(img *imageInspect) *container.Info {
	out := &container.Info{
		ID:          in.ID,
		Name:        strings.TrimPrefix(in.Name, "/"),
		Labels:      in.Config.Labels,
		Privileged:  in.HostConfig.Privileged,
		CapAdd:      in.HostConfig.CapAdd,
		CapDrop:     in.HostConfig.CapDrop,
		NetworkMode: in.HostConfig.NetworkMode,
		User:        in.Config.User,
		StartTS:     startTS(in),
	}
	// A pid that does not fit would wrap to another process's.
	if in.State.Running && in.State.Pid > 0 && in.State.Pid <= math.MaxUint32 {
		out.PID = uint32(in.State.Pid)
	}
	for _, m := range in.Mounts {
		out.Mounts = append(out.Mounts, container.Mount{
			Type: m.Type, Source: m.Source, Dest: m.Destination, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation,
		})
	}
	out.Image = imageOf(in.Config.Image, in.Image, img)
	return out
}

// startTS is when the container last started, or when it was created if
// it has not started: Unix nanoseconds after the epoch (Info's unit), 0
// if neither parses into that range. Engines write year 1 for "never";
// a year after 2262 would wrap to another instant.
func startTS(in *containerInspect) int64 {
	for _, s := range []string{in.State.StartedAt, in.Created} {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err == nil && t.After(time.Unix(0, 0)) && t.Before(maxUnixNano) {
			return t.UnixNano()
		}
	}
	return 0
}

// maxUnixNano is the last instant time.UnixNano can represent.
var maxUnixNano = time.Unix(0, math.MaxInt64)

// imageOf describes the image from the container's reference, falling back
// to the image's own tags when the container was created from an id, and
// taking the digest from the image's repo digests when the reference has
// none.
func imageOf(ref, id string, img *imageInspect) container.Image {
	out := container.Image{Name: ref, ID: id}
	if (ref == "" || container.IsImageID(ref)) && img != nil && len(img.RepoTags) > 0 {
		out.Name = img.RepoTags[0]
	}
	if out.Name != "" && !container.IsImageID(out.Name) {
		out.Repository, out.Tag, out.Digest = container.ParseImageRef(out.Name)
	}
	if out.Digest == "" && img != nil {
		for _, d := range img.RepoDigests {
			repo, digest, ok := strings.Cut(d, "@")
			if ok && (repo == out.Repository || out.Repository == "") {
				out.Digest = digest
				break
			}
		}
	}
	return out
}
