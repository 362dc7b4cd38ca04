package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/vigilsec/vigil/internal/sbom"
	"github.com/vigilsec/vigil/internal/sbom/scan"
)

// Options are a scan's options plus where and how much to unpack.
type Options struct {
	Scan   scan.Options
	Limits Limits
	// TempDir is where the image is unpacked ("": os.TempDir()). The
	// unpacked tree is removed when the scan ends.
	TempDir string
}

// ScanArchive inventories the image in a docker save archive file.
func ScanArchive(ctx context.Context, file string, opts Options) (*sbom.Inventory, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read-only: closing loses nothing
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	inv, err := scanArchive(ctx, f, st.Size(), opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	inv.Target.Name = file
	return inv, nil
}

// ScanStream inventories a docker save archive read from r (the engine's
// /images/{name}/get), spooled to a temporary file first, since layers must
// be read in manifest order and the stream is in the engine's order.
func ScanStream(ctx context.Context, r io.Reader, name string, opts Options) (_ *sbom.Inventory, err error) {
	opts.Limits.defaults()
	tmp, err := os.CreateTemp(opts.TempDir, "vigil-image-*.tar")
	if err != nil {
		return nil, err
	}
	defer func() {
		// The spool was written and read back already, so closing it
		// loses nothing; but it is as large as the image and must not be
		// left behind.
		_ = tmp.Close()
		err = errors.Join(err, os.Remove(tmp.Name()))
	}()
	n, err := io.Copy(tmp, io.LimitReader(r, opts.Limits.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("save image %s: %w", name, err)
	}
	if n > opts.Limits.MaxBytes {
		return nil, fmt.Errorf("image %s: archive is over %d bytes", name, opts.Limits.MaxBytes)
	}
	inv, err := scanArchive(ctx, tmp, n, opts)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", name, err)
	}
	inv.Target.Name = name
	return inv, nil
}

func scanArchive(ctx context.Context, r io.ReaderAt, size int64, opts Options) (_ *sbom.Inventory, err error) {
	opts.Limits.defaults()
	idx, err := index(r, size)
	if err != nil {
		return nil, err
	}
	m, err := readManifest(r, idx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(opts.TempDir, "vigil-rootfs-*")
	if err != nil {
		return nil, err
	}
	// The unpacked layers are as large as the image: not left behind.
	defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close() //nolint:errcheck // a directory handle: closing loses nothing
	a := &applier{root: root, limits: opts.Limits}
	for _, l := range m.Layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		mem := idx[path.Clean(l)]
		open := func() io.Reader { return io.NewSectionReader(r, mem.off, mem.size) }
		if err := a.apply(l, open); err != nil {
			return nil, err
		}
	}
	inv, err := scan.Scan(ctx, dir, opts.Scan)
	if err != nil {
		return nil, err
	}
	inv.Target = sbom.Target{Kind: sbom.TargetImage, ID: m.ID()}
	for _, p := range a.problems {
		inv.Errors = append(inv.Errors, sbom.ScanError{File: "(image)", Message: p.Error()})
	}
	inv.Sort()
	return inv, nil
}
