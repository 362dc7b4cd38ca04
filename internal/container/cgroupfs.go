package container

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// fileidKernfs is FILEID_KERNFS: a cgroup2fs file handle is the kernfs node
// id, which is also the cgroup id that bpf_get_current_cgroup_id returns.
const fileidKernfs = 0xfe

// errGone means the cgroup no longer exists.
var errGone = errors.New("cgroup is gone")

// cgroupFS maps cgroup v2 ids to paths in the unified hierarchy. The id of
// a cgroup is the inode number of its directory, so a walk of the
// hierarchy can build the map; where the kernel allows it,
// open_by_handle_at does the same for one id in a few microseconds.
type cgroupFS struct {
	root    string // mount point of the unified hierarchy, "" if none
	mountFD int    // open directory fd of root, -1 if none
	handles atomic.Bool
	maxWalk int
}

// openCgroupFS finds the unified hierarchy under base (normally
// /sys/fs/cgroup): mounted there (v2) or at base/unified (hybrid).
func openCgroupFS(base string, maxWalk int) *cgroupFS {
	c := &cgroupFS{mountFD: -1, maxWalk: maxWalk}
	for _, dir := range [...]string{base, filepath.Join(base, "unified")} {
		var st unix.Statfs_t
		if unix.Statfs(dir, &st) != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
			continue
		}
		c.root = dir
		if fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err == nil {
			c.mountFD = fd
			c.handles.Store(true)
		}
		break
	}
	return c
}

func (c *cgroupFS) close() {
	if c.mountFD >= 0 {
		unix.Close(c.mountFD)
		c.mountFD = -1
	}
}

// available reports whether there is a unified hierarchy to resolve ids in.
func (c *cgroupFS) available() bool { return c.root != "" }

// byHandle resolves one id through open_by_handle_at. It returns
// errors.ErrUnsupported when the kernel or our privileges refuse file
// handles, after which it is not tried again.
func (c *cgroupFS) byHandle(id uint64) (string, error) {
	if !c.handles.Load() {
		return "", errors.ErrUnsupported
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], id)
	fd, err := unix.OpenByHandleAt(c.mountFD, unix.NewFileHandle(fileidKernfs, b[:]), unix.O_PATH|unix.O_CLOEXEC)
	switch {
	case err == unix.ESTALE || err == unix.ENOENT:
		return "", errGone
	case err == unix.EPERM || err == unix.EACCES || err == unix.EOPNOTSUPP || err == unix.ENOSYS ||
		err == unix.EINVAL || err == unix.EBADF:
		// EPERM without CAP_DAC_READ_SEARCH, EOPNOTSUPP on kernels whose
		// cgroupfs cannot export handles: fall back to walking for good.
		c.handles.Store(false)
		return "", errors.ErrUnsupported
	case err != nil:
		return "", err // EMFILE and the like pass; the caller retries later
	}
	defer unix.Close(fd)
	target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return "", err
	}
	return c.rel(target)
}

// rel turns an absolute path under root into a hierarchy path ("/docker/<id>").
func (c *cgroupFS) rel(abs string) (string, error) {
	r, ok := strings.CutPrefix(abs, c.root)
	if !ok || (r != "" && r[0] != '/') {
		return "", errors.New("cgroup path outside the hierarchy: " + abs)
	}
	if r == "" {
		r = "/"
	}
	return r, nil
}

// idOf returns the cgroup id of a hierarchy path.
func (c *cgroupFS) idOf(path string) (uint64, error) {
	if c.root == "" {
		return 0, errors.ErrUnsupported
	}
	var st unix.Stat_t
	// Join cleans the path, so a hostile "/../.." cannot climb out of root.
	if err := unix.Stat(filepath.Join(c.root, filepath.Join("/", path)), &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// walk maps every cgroup's id to its path, stopping after maxWalk
// directories so that a host with a pathological number of cgroups costs a
// bounded amount of time and memory. truncated says it stopped early.
func (c *cgroupFS) walk() (paths map[uint64]string, truncated bool) {
	paths = make(map[uint64]string)
	if c.root == "" {
		return paths, false
	}
	// The walk skips what it cannot read, so WalkDir itself never fails.
	_ = filepath.WalkDir(c.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil // cgroups come and go during a walk
		}
		if len(paths) >= c.maxWalk {
			truncated = true
			return filepath.SkipAll
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			if rel, err := c.rel(p); err == nil {
				paths[st.Ino] = rel
			}
		}
		return nil
	})
	return paths, truncated
}
