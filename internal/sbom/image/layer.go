package image

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// applier writes layers into a directory through os.Root, so that no
// entry, however named, and no symlink an earlier layer planted, can make
// a write land outside it.
type applier struct {
	root    *os.Root
	limits  Limits
	written int64
	entries int
	// problems are entries that could not be applied; the scan reports
	// them and goes on, as a broken entry rarely hides packages.
	problems []error
}

const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// decompress recognises gzip and zstd layers by their magic; anything
// else is read as a plain tar.
func decompress(r io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(4)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, err
		}
		return zr, func() { _ = zr.Close() }, nil // read-only: closing loses nothing
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, nil, err
		}
		return zr, zr.Close, nil
	}
	return br, func() {}, nil
}

// apply writes one layer. Whiteouts delete what lower layers wrote; an
// opaque marker empties its directory of lower layers' entries, which a
// first pass over the layer finds so that the directory is emptied before
// this layer's own entries go in. open returns the layer from its start.
func (a *applier) apply(layer string, open func() io.Reader) error {
	opaque, err := a.opaqueDirs(layer, open())
	if err != nil {
		return err
	}
	for _, dir := range opaque {
		a.clearDir(layer, dir)
	}
	return a.each(layer, open(), true, func(h *tar.Header, name string, r io.Reader) error {
		dir, base := path.Dir(name), path.Base(name)
		if base == whiteoutOpaque {
			return nil
		}
		if victim, ok := strings.CutPrefix(base, whiteoutPrefix); ok {
			if err := a.root.RemoveAll(path.Join(dir, victim)); err != nil {
				a.problem(layer, name, err)
			}
			return nil
		}
		a.entries++
		if a.entries > a.limits.MaxEntries {
			return fmt.Errorf("layer %s: more than %d entries in the image", layer, a.limits.MaxEntries)
		}
		if err := a.entry(h, name, r); err != nil {
			if errors.Is(err, errTooBig) {
				return fmt.Errorf("layer %s: %w", layer, err)
			}
			a.problem(layer, name, err)
		}
		return nil
	})
}

// opaqueDirs lists the directories a layer marks opaque.
func (a *applier) opaqueDirs(layer string, r io.Reader) ([]string, error) {
	var dirs []string
	err := a.each(layer, r, false, func(_ *tar.Header, name string, _ io.Reader) error {
		if path.Base(name) == whiteoutOpaque {
			dirs = append(dirs, path.Dir(name))
		}
		return nil
	})
	return dirs, err
}

// each calls fn for every entry of a layer with its name made relative to
// the root; names that climb out of it are skipped, and reported when
// report is set (once per layer, not once per pass).
func (a *applier) each(layer string, r io.Reader, report bool, fn func(h *tar.Header, name string, r io.Reader) error) error {
	dr, done, err := decompress(r)
	if err != nil {
		return fmt.Errorf("layer %s: %w", layer, err)
	}
	defer done()
	tr := tar.NewReader(dr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("layer %s: %w", layer, err)
		}
		name, ok := clean(h.Name)
		if !ok {
			if report {
				a.problem(layer, h.Name, errors.New("path leaves the root"))
			}
			continue
		}
		if name == "." {
			continue
		}
		if err := fn(h, name, tr); err != nil {
			return err
		}
	}
}

var errTooBig = errors.New("image is over the size limit")

func (a *applier) problem(layer, name string, err error) {
	const maxProblems = 1000
	if len(a.problems) < maxProblems {
		a.problems = append(a.problems, fmt.Errorf("layer %s: /%s: %w", layer, name, err))
	}
}

func (a *applier) entry(h *tar.Header, name string, r io.Reader) error {
	dir := path.Dir(name)
	if dir != "." {
		if err := a.root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	switch h.Typeflag {
	case tar.TypeDir:
		if st, err := a.root.Lstat(name); err == nil && !st.IsDir() {
			if err := a.root.RemoveAll(name); err != nil {
				return err
			}
		}
		if err := a.root.Mkdir(name, fs.FileMode(h.Mode)&0o777|0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		return nil
	case tar.TypeReg:
		if err := a.replace(name); err != nil {
			return err
		}
		f, err := a.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fs.FileMode(h.Mode)&0o777|0o600)
		if err != nil {
			return err
		}
		n, err := io.Copy(f, io.LimitReader(r, a.limits.MaxBytes-a.written+1))
		a.written += n
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if a.written > a.limits.MaxBytes {
			return fmt.Errorf("%w of %d bytes", errTooBig, a.limits.MaxBytes)
		}
		return err
	case tar.TypeSymlink:
		if err := a.replace(name); err != nil {
			return err
		}
		return a.root.Symlink(h.Linkname, name)
	case tar.TypeLink:
		target, ok := clean(h.Linkname)
		if !ok {
			return errors.New("hard link target leaves the root")
		}
		if err := a.replace(name); err != nil {
			return err
		}
		return a.root.Link(target, name)
	}
	return nil // devices, fifos: nothing to inventory
}

// replace removes what a lower layer left at name, so that a new file is
// never written through an old symlink.
func (a *applier) replace(name string) error {
	if _, err := a.root.Lstat(name); err == nil {
		return a.root.RemoveAll(name)
	}
	return nil
}

// clearDir removes everything lower layers left in dir.
func (a *applier) clearDir(layer, dir string) {
	f, err := a.root.Open(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			a.problem(layer, dir, err)
		}
		return
	}
	names, err := f.Readdirnames(-1)
	_ = f.Close() // read-only: closing loses nothing
	if err != nil {
		a.problem(layer, dir, err)
		return
	}
	for _, n := range names {
		if err := a.root.RemoveAll(path.Join(dir, n)); err != nil {
			a.problem(layer, path.Join(dir, n), err)
		}
	}
}

// clean makes a tar entry name relative to the root; ok is false for a
// name that climbs above it at any point ("a/../../x"), which a correct
// image never has.
func clean(name string) (string, bool) {
	if strings.Contains(name, "\x00") || climbs(name) {
		return "", false
	}
	rel := strings.TrimPrefix(path.Clean("/"+name), "/")
	if rel == "" {
		rel = "."
	}
	return rel, true
}

// climbs reports whether a relative path goes above its start at any point.
func climbs(name string) bool {
	depth := 0
	for _, part := range strings.Split(strings.TrimPrefix(name, "/"), "/") {
		switch part {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}
