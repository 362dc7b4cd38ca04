package proc

import (
	"bytes"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// cgroupResolver maps cgroup v2 paths to cgroup ids. A cgroup's id is the
// inode number of its directory in cgroup2fs, which is what
// bpf_get_current_cgroup_id reports, so a stat of the directory is enough.
type cgroupResolver struct {
	root string            // mount point of the unified hierarchy, "" if none
	ids  map[string]uint64 // most processes share a handful of cgroups
}

// newCgroupResolver looks for the unified hierarchy beside procRoot
// (/proc -> /sys/fs/cgroup, /host/proc -> /host/sys/fs/cgroup), either
// mounted there directly or, on hybrid systems, under unified/.
func newCgroupResolver(procRoot string) *cgroupResolver {
	base := filepath.Join(filepath.Dir(filepath.Clean(procRoot)), "sys", "fs", "cgroup")
	for _, dir := range [...]string{base, filepath.Join(base, "unified")} {
		var st unix.Statfs_t
		if unix.Statfs(dir, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return &cgroupResolver{root: dir, ids: make(map[string]uint64)}
		}
	}
	return &cgroupResolver{}
}

// id returns the cgroup id for the contents of /proc/<pid>/cgroup, or 0.
func (c *cgroupResolver) id(content []byte) uint64 {
	if c.root == "" {
		return 0
	}
	for len(content) > 0 {
		line := content
		if i := bytes.IndexByte(content, '\n'); i >= 0 {
			line, content = content[:i], content[i+1:]
		} else {
			content = nil
		}
		// The v2 entry is "0::<path>"; v1 controllers have other numbers.
		if rel, ok := bytes.CutPrefix(line, []byte("0::")); ok {
			return c.lookup(string(rel))
		}
	}
	return 0
}

func (c *cgroupResolver) lookup(rel string) uint64 {
	if id, ok := c.ids[rel]; ok {
		return id
	}
	var id uint64
	var st unix.Stat_t
	// Join cleans the path, so a hostile "/../.." cannot climb out of root.
	if unix.Stat(filepath.Join(c.root, filepath.Join("/", rel)), &st) == nil {
		id = st.Ino
	}
	c.ids[rel] = id
	return id
}
