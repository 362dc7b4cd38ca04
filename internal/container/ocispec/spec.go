package ocispec

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/container"
)

// maxSpec bounds a spec's JSON. Real ones are a few kilobytes, tens with
// many mounts or environment variables.
const maxSpec = 4 << 20

// Details is what Describe reads from a spec.
type Details struct {
	// Privileged is true when the spec grants every capability (see
	// AllCapabilities): what --privileged and --cap-add ALL produce.
	Privileged bool
	// CapAdd and CapDrop compare the bounding set with the default set
	// Docker, containerd and CRI-O give a container, in Docker's spelling
	// ("NET_ADMIN"). A privileged spec has CapAdd ["ALL"].
	CapAdd, CapDrop []string
	// Mounts are the container's mounts less the pseudo file systems every
	// container gets (/proc, /sys, /dev, ...).
	Mounts []container.Mount
	// User is "uid:gid" of the container's first process.
	User string
	// NetworkMode is "host" without a network namespace, "private" for a
	// namespace of its own and "netns:<path>" for one it joins (a pod's,
	// or another container's).
	NetworkMode string
}

// Parse decodes a spec from its JSON, as containerd stores it and CRI
// runtimes return it.
func Parse(data []byte) (*specs.Spec, error) {
	if len(data) > maxSpec {
		return nil, fmt.Errorf("oci spec: %d bytes, more than the %d accepted", len(data), maxSpec)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("oci spec: %w", err)
	}
	return &s, nil
}

// ErrNoSpec is what Describe returns for a nil spec.
var ErrNoSpec = errors.New("oci spec: none")

// Describe reads a spec's capabilities, mounts, user and network mode.
func Describe(s *specs.Spec) (Details, error) {
	if s == nil {
		return Details{}, ErrNoSpec
	}
	var d Details
	if p := s.Process; p != nil {
		d.User = strconv.FormatUint(uint64(p.User.UID), 10) + ":" + strconv.FormatUint(uint64(p.User.GID), 10)
		if p.Capabilities != nil {
			d.Privileged, d.CapAdd, d.CapDrop = compareCaps(p.Capabilities.Bounding)
		}
	}
	d.Mounts = mounts(s.Mounts)
	d.NetworkMode = networkMode(s.Linux)
	return d, nil
}

// networkMode says whether the container has a network namespace of its
// own. The OCI spec lists the namespaces to create or join; a container
// without a network entry shares the host's.
func networkMode(l *specs.Linux) string {
	if l == nil {
		return "host"
	}
	for _, ns := range l.Namespaces {
		if ns.Type != specs.NetworkNamespace {
			continue
		}
		if ns.Path == "" {
			return "private"
		}
		return "netns:" + ns.Path
	}
	return "host"
}

// pseudoFS are mount types that every container gets as part of its
// sandbox rather than as a user's choice.
var pseudoFS = map[string]bool{
	"proc": true, "sysfs": true, "devpts": true, "mqueue": true, "cgroup": true, "cgroup2": true,
}

// runtimeDirs are destinations the runtime itself fills with tmpfs.
var runtimeDirs = map[string]bool{"/dev": true, "/dev/shm": true}

// mounts converts the spec's mounts, leaving out the pseudo file systems
// and runtime tmpfs mounts, which say nothing about the workload.
func mounts(in []specs.Mount) []container.Mount {
	var out []container.Mount
	for _, m := range in {
		if pseudoFS[m.Type] || (m.Type == "tmpfs" && runtimeDirs[m.Destination]) {
			continue
		}
		cm := container.Mount{Type: m.Type, Source: m.Source, Dest: m.Destination, RW: true, Mode: "rw"}
		for _, o := range m.Options {
			switch o {
			case "ro":
				cm.RW, cm.Mode = false, "ro"
			case "bind", "rbind":
				cm.Type = "bind"
			case "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable":
				cm.Propagation = o
			}
		}
		out = append(out, cm)
	}
	return out
}

// capName strips the CAP_ prefix, as Docker spells capabilities.
func capName(c string) string { return strings.TrimPrefix(strings.ToUpper(c), "CAP_") }

// HostNetwork turns a NetworkMode that joins a namespace by path into
// "host" when that namespace is the host's (Docker's --network host
// joins /var/run/docker/netns/default, a bind of the host's namespace).
// procRoot is where /proc is mounted; the host's namespace is pid 1's,
// or the agent's own when pid 1's cannot be read. Anything it cannot stat
// is left as it was.
func HostNetwork(mode, procRoot string) string {
	path, ok := strings.CutPrefix(mode, "netns:")
	if !ok {
		return mode
	}
	var ns, host unix.Stat_t
	if unix.Stat(path, &ns) != nil {
		return mode
	}
	// Reading pid 1's namespace needs ptrace access to it, which a
	// sandboxed agent may lack; an agent on the host network (as it must
	// be to see every container) can use its own instead.
	if unix.Stat(procRoot+"/1/ns/net", &host) != nil && unix.Stat(procRoot+"/self/ns/net", &host) != nil {
		return mode
	}
	if ns.Dev == host.Dev && ns.Ino == host.Ino {
		return "host"
	}
	return mode
}
