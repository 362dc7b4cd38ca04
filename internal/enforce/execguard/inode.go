package execguard

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// InodeOf returns the (dev, ino) the kernel reports for path as an
// executable, in the encoding KillRule and KillRecord use (stat's st_dev).
// Symlinks are followed, as exec follows them. For a file inside a
// container, pass its path through the container's root,
// /proc/<pid>/root/<path>: the container sees its overlay mount, whose
// device differs from the layer directories under /var/lib/docker.
//
// On overlayfs with all layers on one file system (Docker's overlay2 on one
// disk, as here) stat and the kernel's bprm->file->f_inode agree: the
// device is the overlay mount's and the inode number the real file's. With
// layers on different file systems and no xino, stat reports a per-layer
// pseudo device for lower-layer files and the two no longer agree; such
// files are better matched by comm.
func InodeOf(path string) (dev, ino uint64, err error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, 0, fmt.Errorf("execguard: inode of %s: %w", path, err)
	}
	return st.Dev, st.Ino, nil
}
