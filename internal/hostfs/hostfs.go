// Package hostfs names the host's files as this process sees them. On the
// host the root is "/"; in the agent's container the host's directories
// are mounted under a prefix ("/host" in the image, set through host.root
// or VIGIL_HOST_ROOT), so /proc is read at /host/proc, the cgroup tree at
// /host/sys/fs/cgroup, /etc/passwd at /host/etc/passwd and the runtimes'
// sockets under /host/run. Every host path the agent reads goes through
// Path, so that one setting moves them all.
//
// What the kernel describes about the reader itself stays where it is:
// /proc/self (the agent's own fds, status and mounts) and /sys/kernel/btf,
// which the kernel provides identically in every mount namespace.
//
// The root is set once at start-up, before anything reads a host path;
// it is process-wide because it describes the process's environment, as
// the working directory does.
package hostfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
)

// EnvRoot is the variable the container image sets to "/host"; the
// configuration key host.root takes it as its default.
const EnvRoot = "VIGIL_HOST_ROOT"

var root atomic.Pointer[string]

// SetRoot makes dir the host's root for every later Path. dir must be an
// absolute path to a directory; "" and "/" mean the process's own root.
func SetRoot(dir string) error {
	if dir == "" {
		dir = "/"
	}
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("host root %q is not an absolute path", dir)
	}
	dir = filepath.Clean(dir)
	if dir != "/" {
		st, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("host root: %w", err)
		}
		if !st.IsDir() {
			return fmt.Errorf("host root %s is not a directory", dir)
		}
	}
	root.Store(&dir)
	return nil
}

// Root is the host's root directory as set by SetRoot ("/" by default).
func Root() string {
	if p := root.Load(); p != nil {
		return *p
	}
	return "/"
}

// OnHost reports whether the process reads the host at its own root: no
// prefix is in force.
func OnHost() bool { return Root() == "/" }

// Path returns where the host's absolute path p is seen by this process.
func Path(p string) string {
	r := Root()
	if r == "/" {
		return p
	}
	return r + filepath.Clean("/"+p)
}

// Proc is the host's /proc: with hostPID, the proc file system of the
// host's pid namespace, whose pids are those the kernel reports in events.
func Proc() string { return Path("/proc") }

// ProcPID is the host's /proc/<pid> directory.
func ProcPID(pid int) string { return Proc() + "/" + strconv.Itoa(pid) }
