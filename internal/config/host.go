package config

import (
	"os"
	"path/filepath"
	"strings"
)

// Host says where the agent finds the host it watches. On the host itself
// the defaults hold; in the agent's container the image sets
// VIGIL_HOST_ROOT=/host and the DaemonSet mounts the host's directories
// under it (docs/deploy.md lists them).
type Host struct {
	// Root prefixes every host path the agent reads: /proc, the cgroup
	// tree, /etc/passwd and /etc/group, the runtimes' sockets and the
	// package databases of scans. /sys/kernel/btf is read where it is.
	Root string `yaml:"root"`
	// Hostname names this node in alerts and to the central service.
	// Empty takes kubernetes.node_name (NODE_NAME), then the kernel's
	// host name, since a pod's own host name is the pod's.
	Hostname string `yaml:"hostname"`
	// Runtimes are the sockets each container runtime is looked for at,
	// host paths tried in order; the first that is a socket is used.
	Runtimes Runtimes `yaml:"runtimes"`
}

// Runtimes lists candidate socket paths per container runtime.
type Runtimes struct {
	Docker     []string `yaml:"docker"`
	Podman     []string `yaml:"podman"`
	Containerd []string `yaml:"containerd"`
	CRIO       []string `yaml:"crio"`
}

func defaultHost() Host {
	return Host{Root: "/", Runtimes: Runtimes{
		Docker: []string{"/var/run/docker.sock"},
		Podman: []string{"/run/podman/podman.sock"},
		// The host's containerd, then k3s's and microk8s's own.
		Containerd: []string{"/run/containerd/containerd.sock", "/run/k3s/containerd/containerd.sock",
			"/var/snap/microk8s/common/run/containerd.sock"},
		CRIO: []string{"/var/run/crio/crio.sock"},
	}}
}

// NodeName is the name this agent reports itself by: host.hostname, else
// the Kubernetes node name, else the kernel's host name.
func (c *Config) NodeName() string {
	if c.Host.Hostname != "" {
		return c.Host.Hostname
	}
	if c.Kubernetes.NodeName != "" {
		return c.Kubernetes.NodeName
	}
	h, _ := os.Hostname()
	return h
}

func (h *Host) validate(bad func(key, format string, args ...any)) {
	if h.Root != "" && !filepath.IsAbs(h.Root) {
		bad("host.root", "%q is not an absolute path", h.Root)
	}
	for key, list := range map[string][]string{"host.runtimes.docker": h.Runtimes.Docker, "host.runtimes.podman": h.Runtimes.Podman,
		"host.runtimes.containerd": h.Runtimes.Containerd, "host.runtimes.crio": h.Runtimes.CRIO} {
		for _, p := range list {
			if !filepath.IsAbs(p) {
				bad(key, "%q is not an absolute path (a host path, under host.root)", p)
			}
		}
	}
	if strings.ContainsFunc(h.Hostname, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		bad("host.hostname", "%q: want a name without spaces or control characters", h.Hostname)
	}
}
