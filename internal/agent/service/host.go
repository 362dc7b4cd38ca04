package service

import (
	"context"
	"log/slog"
	"os"

	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/container"
	containersources "github.com/vigilsec/vigil/internal/container/sources"
	"github.com/vigilsec/vigil/internal/hostfs"
)

// runtimeSources finds the container runtimes at the configured sockets,
// under the host root, and returns a metadata source for each.
func runtimeSources(r config.Runtimes, log *slog.Logger) []container.Source {
	s := containersources.Sockets{Docker: firstSocket(r.Docker), Podman: firstSocket(r.Podman),
		Containerd: firstSocket(r.Containerd), CRIO: firstSocket(r.CRIO)}
	for name, path := range map[string]string{"docker": s.Docker, "podman": s.Podman, "containerd": s.Containerd, "crio": s.CRIO} {
		if path != "" {
			log.Info("container runtime found", "runtime", name, "socket", path)
		}
	}
	return containersources.DetectAt(context.Background(), s, log)
}

// firstSocket returns the first of the host paths that is a socket, under
// the host root, or "" when none is.
func firstSocket(paths []string) string {
	for _, p := range paths {
		p = hostfs.Path(p)
		if st, err := os.Stat(p); err == nil && st.Mode()&os.ModeSocket != 0 {
			return p
		}
	}
	return ""
}
