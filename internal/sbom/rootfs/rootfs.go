// Package rootfs opens files inside a root file system the way a process
// chrooted there would see them: absolute and ".." symlinks resolve inside
// the root, never to the scanning host's files. It uses openat2 with
// RESOLVE_IN_ROOT (Linux 5.6); on older kernels it falls back to os.Root,
// which refuses links that leave the root instead of re-rooting them.
package rootfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// FS is a root file system. It implements fs.FS, fs.ReadDirFS and
// fs.StatFS with slash-separated paths relative to the root.
type FS struct {
	dir    string
	dirfd  int      // for openat2
	legacy *os.Root // when openat2 is missing
}

// Open opens the directory dir as a root file system.
func Open(dir string) (*FS, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	r := &FS{dir: dir, dirfd: fd}
	if _, err := r.openat2(".", unix.O_PATH); errors.Is(err, unix.ENOSYS) {
		root, err := os.OpenRoot(dir)
		if err != nil {
			unix.Close(fd)
			return nil, err
		}
		r.legacy = root
	}
	return r, nil
}

// Dir is the directory the FS was opened on.
func (r *FS) Dir() string { return r.dir }

// Close releases the root.
func (r *FS) Close() error {
	var err error
	if r.legacy != nil {
		err = r.legacy.Close()
	}
	return errors.Join(err, unix.Close(r.dirfd))
}

func (r *FS) openat2(name string, flags uint64) (int, error) {
	flags |= unix.O_CLOEXEC
	if flags&unix.O_PATH == 0 {
		flags |= unix.O_NOCTTY // O_PATH takes no other flags
	}
	how := unix.OpenHow{
		Flags:   flags,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	for {
		fd, err := unix.Openat2(r.dirfd, name, &how)
		if err != unix.EINTR && err != unix.EAGAIN {
			return fd, err
		}
	}
}

// Open implements fs.FS. It opens read-only and never blocks on a FIFO.
func (r *FS) Open(name string) (fs.File, error) { return r.OpenFile(name) }

// OpenFile is Open returning the *os.File, for io.ReaderAt users.
func (r *FS) OpenFile(name string) (*os.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if r.legacy != nil {
		return r.legacy.OpenFile(name, os.O_RDONLY|unix.O_NONBLOCK, 0)
	}
	fd, err := r.openat2(name, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), "/"+strings.TrimPrefix(name, ".")), nil
}

// ReadDir implements fs.ReadDirFS: entries sorted by name, typed from the
// directory (symlinks are reported as symlinks, not followed).
func (r *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	f, err := r.OpenFile(name)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read-only: closing loses nothing
	ents, err := f.ReadDir(-1)
	for i, e := range ents {
		ents[i] = dirEntry{DirEntry: e, root: r, rel: path.Join(name, e.Name())}
	}
	sortEntries(ents)
	return ents, err
}

// Stat implements fs.StatFS, following symlinks inside the root.
func (r *FS) Stat(name string) (fs.FileInfo, error) {
	f, err := r.OpenFile(name)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read-only: closing loses nothing
	return f.Stat()
}

// ReadFile reads a whole regular file of at most limit bytes. A larger
// file, or one that is not regular, is an error.
func (r *FS) ReadFile(name string, limit int64) ([]byte, error) {
	f, err := r.OpenFile(name)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read-only: closing loses nothing
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes is over the %d-byte limit", name, st.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = fmt.Errorf("%s: grew over the %d-byte limit while read", name, limit)
	}
	return b, err
}

// Abs is the path as seen inside the root, for reports: "/" + name.
func Abs(name string) string { return path.Join("/", name) }
