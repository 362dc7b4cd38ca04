// Package sources finds the container runtimes of this host and returns a
// metadata source for each: Docker and podman through the Engine API,
// containerd through its own API and, when its CRI plugin answers, through
// CRI, and CRI-O through CRI. The resolver routes each container to the
// sources of the runtime its cgroup path names (cri-containerd-<id> to
// containerd's, crio-<id> to CRI-O's); a path that names no runtime
// (kubepods under the cgroupfs driver) is asked of every source.
package sources

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/container/containerdapi"
	"github.com/vigilsec/vigil/internal/container/criapi"
	"github.com/vigilsec/vigil/internal/container/dockerapi"
	"github.com/vigilsec/vigil/internal/hostfs"
)

// Sockets are where runtimes are looked for.
type Sockets struct {
	Docker, Podman, Containerd, CRIO string
}

// DefaultSockets are the runtimes' default paths when run as root, under
// the host root.
func DefaultSockets() Sockets {
	return Sockets{
		Docker:     hostfs.Path(dockerapi.DefaultDockerSocket),
		Podman:     hostfs.Path(dockerapi.DefaultPodmanSocket),
		Containerd: hostfs.Path(containerdapi.DefaultSocket),
		CRIO:       hostfs.Path(criapi.CRIOSocket),
	}
}

// probeTimeout bounds the one call Detect makes: asking containerd whether
// its CRI plugin is on.
const probeTimeout = time.Second

// Detect returns a source for each runtime whose socket exists at its
// default path. It is what `vigil run` uses.
func Detect() []container.Source {
	return DetectAt(context.Background(), DefaultSockets(), slog.Default())
}

// DetectAt returns a source for each runtime whose socket exists:
//
//   - Docker and podman: an Engine API client each.
//   - containerd: a CRI client first if its CRI plugin answers, serving
//     namespace k8s.io with pod metadata, then a native client for the other
//     namespaces. Namespace moby is left out when Docker is there, since
//     Docker's API describes those containers with names and images.
//     dockerd's private containerd (/var/run/docker/containerd) holds only
//     moby and is not used.
//   - CRI-O: a CRI client.
//
// Only existence is checked, except for the CRI probe, so that a runtime
// that starts late is still followed (its stream is retried).
func DetectAt(ctx context.Context, s Sockets, log *slog.Logger) []container.Source {
	var out []container.Source
	docker := isSocket(s.Docker)
	if docker {
		out = append(out, dockerapi.New(s.Docker, container.RuntimeDocker))
	}
	if isSocket(s.Podman) {
		out = append(out, dockerapi.New(s.Podman, container.RuntimePodman))
	}
	if isSocket(s.Containerd) {
		var skip []string
		if docker {
			skip = append(skip, containerdapi.NamespaceDocker)
		}
		if cri := containerdCRI(ctx, s.Containerd); cri != nil {
			out = append(out, cri)
			skip = append(skip, containerdapi.NamespaceKubernetes)
		}
		if c, err := containerdapi.New(containerdapi.Config{Socket: s.Containerd, Skip: skip}); err == nil {
			out = append(out, c)
		} else {
			log.Warn("containerd metadata unavailable", "socket", s.Containerd, "err", err)
		}
	}
	if isSocket(s.CRIO) {
		if c, err := criapi.New(criapi.Config{Socket: s.CRIO, Runtime: container.RuntimeCRIO}); err == nil {
			out = append(out, c)
		} else {
			log.Warn("CRI-O metadata unavailable", "socket", s.CRIO, "err", err)
		}
	}
	return out
}

// containerdCRI returns a CRI client for containerd when its CRI plugin
// answers on the socket, nil otherwise.
func containerdCRI(ctx context.Context, sock string) container.Source {
	c, err := criapi.New(criapi.Config{Socket: sock, Runtime: container.RuntimeContainerd})
	if err != nil {
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	if _, _, err := c.Version(pctx); err != nil {
		_ = c.Close() // no runtime answers there: nothing to report but its absence
		return nil
	}
	return c
}

func isSocket(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode()&os.ModeSocket != 0
}
