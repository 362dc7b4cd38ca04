package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/vigilsec/vigil/internal/sbom"
	"github.com/vigilsec/vigil/internal/sbom/gobinary"
	"github.com/vigilsec/vigil/internal/sbom/java"
	"github.com/vigilsec/vigil/internal/sbom/npm"
	"github.com/vigilsec/vigil/internal/sbom/python"
	"github.com/vigilsec/vigil/internal/sbom/rootfs"
)

// walker visits every entry of the root once, without following
// symlinks, and hands the files language packages live in to their
// parsers.
type walker struct {
	root     *rootfs.FS
	opts     Options
	inv      *sbom.Inventory
	skip     map[string]bool
	files    int
	lastTick time.Time
}

var errTooMany = errors.New("too many files")

func (w *walker) walk(ctx context.Context) error {
	err := fs.WalkDir(w.root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == "." {
				return err
			}
			w.fail(p, err)
			return nil // WalkDir skips an unreadable directory by itself
		}
		w.files++
		if w.files > w.opts.MaxFiles {
			return errTooMany
		}
		if w.files%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			w.tick(p)
		}
		if d.IsDir() {
			if w.skip[p] {
				return fs.SkipDir
			}
			return w.dir(p, d.Name())
		}
		if d.Type().IsRegular() {
			w.file(p, d)
		}
		return nil
	})
	if errors.Is(err, errTooMany) {
		w.inv.Errors = append(w.inv.Errors, sbom.ScanError{File: "/",
			Message: fmt.Sprintf("walk stopped after %d entries (the limit); later files were not inventoried", w.opts.MaxFiles)})
		return nil
	}
	return err
}

func (w *walker) tick(p string) {
	if w.opts.Progress == nil || time.Since(w.lastTick) < w.opts.ProgressEvery {
		return
	}
	w.lastTick = time.Now()
	w.opts.Progress(Progress{Files: w.files, Packages: len(w.inv.Packages), Path: rootfs.Abs(p)})
}

func (w *walker) fail(p string, err error) {
	w.inv.Errors = append(w.inv.Errors, sbom.FileError(rootfs.Abs(p), err))
}

func (w *walker) add(pkgs ...sbom.Package) { w.inv.Packages = append(w.inv.Packages, pkgs...) }

// dir handles the metadata directories of Python distributions; their
// contents need no further walking.
func (w *walker) dir(p, name string) error {
	switch {
	case strings.HasSuffix(name, ".dist-info"):
		w.distInfo(p)
		return fs.SkipDir
	case strings.HasSuffix(name, ".egg-info"):
		w.eggInfo(p)
		return fs.SkipDir
	}
	return nil
}

func (w *walker) file(p string, d fs.DirEntry) {
	name := d.Name()
	switch {
	case name == "package-lock.json":
		w.npmLock(p)
	case name == "package.json" && npm.IsInstalledManifest(p):
		w.npmManifest(p)
	case strings.HasSuffix(name, ".egg-info"):
		w.eggInfoFile(p)
	case java.IsArchive(name):
		w.jar(p)
	default:
		info, err := d.Info()
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) { // removed while walking
				w.fail(p, err)
			}
			return
		}
		if info.Mode().Perm()&0o111 != 0 && info.Size() >= 4 {
			w.goBinary(p, info.Size())
		}
	}
}

func (w *walker) readMeta(p string) ([]byte, bool) {
	b, err := w.root.ReadFile(p, w.opts.MaxMetadataSize)
	if err != nil {
		w.fail(p, err)
		return nil, false
	}
	return b, true
}

func (w *walker) npmLock(p string) {
	b, ok := w.readMeta(p)
	if !ok {
		return
	}
	pkgs, err := npm.ParseLock(b, rootfs.Abs(p))
	if err != nil {
		w.fail(p, err)
	}
	w.add(pkgs...)
}

func (w *walker) npmManifest(p string) {
	b, ok := w.readMeta(p)
	if !ok {
		return
	}
	pkg, ok, err := npm.ParsePackageJSON(b, rootfs.Abs(p))
	if err != nil {
		w.fail(p, err)
	}
	if ok {
		w.add(pkg)
	}
}

func (w *walker) distInfo(dir string) {
	meta := path.Join(dir, "METADATA")
	m, ok := w.pythonMetadata(meta)
	if !ok {
		return
	}
	record := path.Join(dir, "RECORD")
	files := w.pythonFiles(record, func(b []byte) ([]string, error) {
		return python.ParseRecord(b, rootfs.Abs(path.Dir(dir)))
	})
	w.add(python.Package(m, rootfs.Abs(meta), files))
}

func (w *walker) eggInfo(dir string) {
	meta := path.Join(dir, "PKG-INFO")
	m, ok := w.pythonMetadata(meta)
	if !ok {
		return
	}
	files := w.pythonFiles(path.Join(dir, "installed-files.txt"), func(b []byte) ([]string, error) {
		return python.ParseInstalledFiles(b, rootfs.Abs(dir)), nil
	})
	w.add(python.Package(m, rootfs.Abs(meta), files))
}

// eggInfoFile is the single-file form distutils writes beside the package.
func (w *walker) eggInfoFile(p string) {
	if m, ok := w.pythonMetadata(p); ok {
		w.add(python.Package(m, rootfs.Abs(p), nil))
	}
}

// pythonMetadata reads and parses a distribution's metadata file,
// reporting a failure against it.
func (w *walker) pythonMetadata(meta string) (python.Metadata, bool) {
	b, ok := w.readMeta(meta)
	if !ok {
		return python.Metadata{}, false
	}
	m, err := python.ParseMetadata(bytes.NewReader(b))
	if err != nil {
		w.fail(meta, err)
		return python.Metadata{}, false
	}
	return m, true
}

// pythonFiles reads a distribution's optional list of installed files;
// a missing list is no failure.
func (w *walker) pythonFiles(list string, parse func([]byte) ([]string, error)) []string {
	b, err := w.root.ReadFile(list, w.opts.MaxMetadataSize)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			w.fail(list, err)
		}
		return nil
	}
	files, err := parse(b)
	if err != nil {
		w.fail(list, err)
	}
	return files
}

func (w *walker) jar(p string) {
	f, err := w.root.OpenFile(p)
	if err != nil {
		w.fail(p, err)
		return
	}
	defer f.Close() //nolint:errcheck // read-only: closing loses nothing
	st, err := f.Stat()
	if err != nil {
		w.fail(p, err)
		return
	}
	if !st.Mode().IsRegular() || st.Size() > w.opts.MaxBinarySize {
		w.fail(p, fmt.Errorf("archive of %d bytes is over the %d-byte limit", st.Size(), w.opts.MaxBinarySize))
		return
	}
	pkgs, errs := java.Read(f, st.Size(), rootfs.Abs(p))
	for _, e := range errs {
		w.fail(p, e)
	}
	w.add(pkgs...)
}

func (w *walker) goBinary(p string, size int64) {
	if size > w.opts.MaxBinarySize {
		return // not reported: huge executables are rarely Go, and never ours to refuse loudly
	}
	f, err := w.root.OpenFile(p)
	if err != nil {
		w.fail(p, err)
		return
	}
	defer f.Close() //nolint:errcheck // read-only: closing loses nothing
	var head [4]byte
	if n, _ := f.ReadAt(head[:], 0); n < 4 || !gobinary.IsELF(head[:]) {
		return
	}
	pkgs, err := gobinary.Read(f, rootfs.Abs(p))
	if errors.Is(err, gobinary.ErrNotGo) {
		return
	}
	if err != nil {
		w.fail(p, err)
		return
	}
	w.add(pkgs...)
}
