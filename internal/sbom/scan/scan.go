// Package scan inventories a root file system: the distribution's package
// database (dpkg, apk or rpm) and the language packages found by walking
// it (Go binaries, npm, Python, Java archives). Targets other than a
// directory (the host, a running container, an image) come down to a
// directory too: see Host, Process, Container, and package image.
package scan

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/vigilsec/vigil/internal/sbom"
	"github.com/vigilsec/vigil/internal/sbom/apk"
	"github.com/vigilsec/vigil/internal/sbom/dpkg"
	"github.com/vigilsec/vigil/internal/sbom/osrelease"
	"github.com/vigilsec/vigil/internal/sbom/rootfs"
	"github.com/vigilsec/vigil/internal/sbom/rpm"
)

// Options bound and observe a scan. The zero value is usable.
type Options struct {
	// SkipDirs are directories, relative to the root, that are not walked.
	// Nil means DefaultSkipDirs.
	SkipDirs []string
	// MaxFiles stops the walk after this many entries (0: 5,000,000). The
	// stop is reported as a ScanError, never silent.
	MaxFiles int
	// MaxMetadataSize bounds lockfiles, metadata and package databases
	// read whole (0: 64 MiB).
	MaxMetadataSize int64
	// MaxBinarySize bounds the executables searched for Go build
	// information and the Java archives opened (0: 1 GiB).
	MaxBinarySize int64
	// Progress, when set, is called from the scanning goroutine at most
	// every ProgressEvery, and once at the end with Done set.
	Progress      func(Progress)
	ProgressEvery time.Duration // 0: 200ms
}

// DefaultSkipDirs are never inventory: kernel and device file systems.
var DefaultSkipDirs = []string{"proc", "sys", "dev"}

// Progress reports how far a scan got.
type Progress struct {
	Files    int    // entries walked
	Packages int    // packages found so far
	Path     string // the entry being looked at
	Done     bool
}

func (o *Options) defaults() {
	if o.SkipDirs == nil {
		o.SkipDirs = DefaultSkipDirs
	}
	if o.MaxFiles <= 0 {
		o.MaxFiles = 5_000_000
	}
	if o.MaxMetadataSize <= 0 {
		o.MaxMetadataSize = 64 << 20
	}
	if o.MaxBinarySize <= 0 {
		o.MaxBinarySize = 1 << 30
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 200 * time.Millisecond
	}
}

// Scan inventories the root file system at dir. The Target is described as
// a rootfs; callers for other targets overwrite it. Problems with single
// files are in Inventory.Errors; the error return is for a root that cannot
// be opened or a cancelled context.
func Scan(ctx context.Context, dir string, opts Options) (*sbom.Inventory, error) {
	opts.defaults()
	root, err := rootfs.Open(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close() //nolint:errcheck // read-only: closing loses nothing
	inv := &sbom.Inventory{Target: sbom.Target{Kind: sbom.TargetRootFS, Name: dir}, Packages: []sbom.Package{}}
	inv.Distro = readDistro(root, inv)

	add := func(p []sbom.Package, e []sbom.ScanError) {
		inv.Packages = append(inv.Packages, p...)
		inv.Errors = append(inv.Errors, e...)
	}
	add(dpkg.Scan(root, inv.Distro))
	add(apk.Scan(root, inv.Distro))
	add(scanRPM(ctx, root, inv.Distro))

	w := &walker{root: root, opts: opts, inv: inv, skip: map[string]bool{}}
	for _, d := range opts.SkipDirs {
		w.skip[strings.Trim(path.Clean(d), "/")] = true
	}
	if err := w.walk(ctx); err != nil {
		return nil, err
	}
	inv.Packages = dedupNPM(inv.Packages)
	inv.Sort()
	if opts.Progress != nil {
		opts.Progress(Progress{Files: w.files, Packages: len(inv.Packages), Done: true})
	}
	return inv, nil
}

func readDistro(root *rootfs.FS, inv *sbom.Inventory) sbom.Distro {
	for _, p := range osrelease.Paths {
		f, err := root.OpenFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			inv.Errors = append(inv.Errors, sbom.ScanError{File: rootfs.Abs(p), Message: err.Error()})
			continue
		}
		d, err := osrelease.Parse(f)
		_ = f.Close() // read-only: closing loses nothing
		if err != nil {
			inv.Errors = append(inv.Errors, sbom.FileError(rootfs.Abs(p), err))
			continue
		}
		return d
	}
	return sbom.Distro{}
}

func scanRPM(ctx context.Context, root *rootfs.FS, d sbom.Distro) ([]sbom.Package, []sbom.ScanError) {
	for _, p := range rpm.Paths {
		f, err := root.OpenFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		abs := rootfs.Abs(p)
		if err != nil {
			return nil, []sbom.ScanError{{File: abs, Message: err.Error()}}
		}
		defer f.Close() //nolint:errcheck // read-only: closing loses nothing
		blobs, err := rpm.ReadBlobs(ctx, f)
		if err != nil {
			return nil, []sbom.ScanError{{File: abs, Message: err.Error()}}
		}
		pkgs, perrs := rpm.Packages(blobs, d, abs)
		var errs []sbom.ScanError
		for _, e := range perrs {
			errs = append(errs, sbom.ScanError{File: abs, Message: e.Error()})
		}
		return pkgs, errs
	}
	return nil, nil
}

// dedupNPM drops packages read from node_modules/**/package.json when a
// package-lock.json of the same project (the folder holding that
// node_modules) lists the same name and version: one install, one entry.
func dedupNPM(pkgs []sbom.Package) []sbom.Package {
	locked := map[string]bool{} // project dir + "\x00" + name@version
	for _, p := range pkgs {
		if p.Type == sbom.TypeNPM && path.Base(p.Location) == "package-lock.json" {
			locked[path.Dir(p.Location)+"\x00"+p.Name+"@"+p.Version] = true
		}
	}
	if len(locked) == 0 {
		return pkgs
	}
	out := pkgs[:0]
	for _, p := range pkgs {
		if p.Type == sbom.TypeNPM && path.Base(p.Location) == "package.json" {
			if i := strings.Index(p.Location, "/node_modules/"); i >= 0 {
				project := p.Location[:i]
				if project == "" {
					project = "/"
				}
				if locked[project+"\x00"+p.Name+"@"+p.Version] {
					continue
				}
			}
		}
		out = append(out, p)
	}
	return out
}
