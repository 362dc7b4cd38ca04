package proc

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"syscall"
)

// vanished reports whether err means the process is gone: /proc/<pid>
// disappears (ENOENT) or its files stop answering (ESRCH) once it is reaped.
func vanished(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ESRCH)
}

// readFile reads at most limit bytes of path into buf, reusing its memory,
// and reports whether the file held more. /proc files report size 0, so
// the buffer grows as the reads demand.
func readFile(buf []byte, path string, limit int) (data []byte, truncated bool, err error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return buf[:0], false, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(max(cap(buf), 512), limit+1-len(buf)))
		}
		// Read one byte past the limit so that truncation is visible.
		n, err := syscall.Read(fd, buf[len(buf):min(cap(buf), limit+1)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return buf, false, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n <= 0 {
			return buf, false, nil
		}
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			return buf[:limit], true, nil
		}
	}
}

// listPIDs returns the numeric entries of procRoot in ascending order: the
// thread-group ids (thread ids are reachable in /proc but not listed).
func listPIDs(procRoot string) ([]uint32, error) {
	d, err := os.Open(procRoot)
	if err != nil {
		return nil, err
	}
	defer d.Close() //nolint:errcheck // read-only: closing loses nothing
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	pids := make([]uint32, 0, len(names))
	for _, name := range names {
		if pid, err := strconv.ParseUint(name, 10, 32); err == nil && pid != 0 {
			pids = append(pids, uint32(pid))
		}
	}
	slices.Sort(pids)
	return pids, nil
}

// pidDir returns the /proc/<pid> directory under procRoot.
func pidDir(procRoot string, pid uint32) string {
	return procRoot + "/" + strconv.FormatUint(uint64(pid), 10)
}
