package sockguard

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/hostfs"
)

// cgroupRoots are the places a cgroup v2 hierarchy is mounted on the host:
// pure v2 hosts mount it at /sys/fs/cgroup, hybrid ones (v1 controllers
// plus v2) at .../unified.
func cgroupRoots() []string {
	return []string{hostfs.Path("/sys/fs/cgroup"), hostfs.Path("/sys/fs/cgroup/unified")}
}

// FindCgroupRoot returns the mount point of the cgroup v2 hierarchy. The
// programs are attached there so that every cgroup below inherits them.
func FindCgroupRoot() (string, error) {
	cgroupRoots := cgroupRoots()
	for _, p := range cgroupRoots {
		if isCgroup2(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no cgroup v2 hierarchy at %v (sock_addr programs attach to cgroup v2)", cgroupRoots)
}

func isCgroup2(path string) error {
	var fs unix.Statfs_t
	if err := unix.Statfs(path, &fs); err != nil {
		return err
	}
	if fs.Type != unix.CGROUP2_SUPER_MAGIC {
		return fmt.Errorf("%s is not a cgroup v2 file system (magic %#x)", path, fs.Type)
	}
	return nil
}

// CgroupID returns the id of the cgroup v2 directory at path: its inode
// number, which is what bpf_get_current_cgroup_id reports for tasks in it.
// A path on a v1 hierarchy is an error, since its inode means nothing to
// the kernel programs.
func CgroupID(path string) (uint64, error) {
	if err := isCgroup2(path); err != nil {
		return 0, fmt.Errorf("cgroup id of %s: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("cgroup id: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || !fi.IsDir() {
		return 0, errors.New("cgroup id: " + path + " is not a cgroup directory")
	}
	return st.Ino, nil
}
