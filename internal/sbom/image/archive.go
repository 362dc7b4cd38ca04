// Package image inventories container images: a `docker save` archive
// (Docker's legacy layout or the OCI layout Docker 25+ writes), read from a
// file or streamed from the engine's /images/{name}/get, with its layers
// applied in order, whiteouts included, into a temporary directory that is
// then scanned as a root file system.
package image

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Limits bound what one image may cost.
type Limits struct {
	// MaxBytes bounds the bytes written for all layers together
	// (0: 16 GiB).
	MaxBytes int64
	// MaxEntries bounds the entries of all layers together (0: 4,000,000).
	MaxEntries int
}

func (l *Limits) defaults() {
	if l.MaxBytes <= 0 {
		l.MaxBytes = 16 << 30
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = 4_000_000
	}
}

// maxManifest bounds manifest.json and the image config.
const maxManifest = 16 << 20

// Manifest is the part of a docker save manifest.json entry Vigil reads.
type Manifest struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// ID is the image id from the config's file name ("sha256:<hex>"), or ""
// when the name does not carry one.
func (m *Manifest) ID() string {
	base := strings.TrimSuffix(path.Base(m.Config), ".json")
	if len(base) == 64 && strings.Trim(base, "0123456789abcdef") == "" {
		return "sha256:" + base
	}
	return ""
}

// member is where one file of the outer archive's data lies.
type member struct{ off, size int64 }

// index lists the regular files of a tar archive with their data offsets,
// in one pass, so that layers can then be read in manifest order.
func index(r io.ReaderAt, size int64) (map[string]member, error) {
	cr := &countingReader{r: io.NewSectionReader(r, 0, size)}
	tr := tar.NewReader(cr)
	out := map[string]member{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read image archive: %w", err)
		}
		if h.Typeflag == tar.TypeReg {
			out[path.Clean(h.Name)] = member{off: cr.n, size: h.Size}
		}
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readManifest returns the first image of the archive's manifest.json.
func readManifest(r io.ReaderAt, idx map[string]member) (*Manifest, error) {
	m, ok := idx["manifest.json"]
	if !ok {
		return nil, errors.New("not a docker save archive: no manifest.json")
	}
	if m.size > maxManifest {
		return nil, fmt.Errorf("manifest.json of %d bytes", m.size)
	}
	var ms []Manifest
	if err := json.NewDecoder(io.NewSectionReader(r, m.off, m.size)).Decode(&ms); err != nil {
		return nil, fmt.Errorf("decode manifest.json: %w", err)
	}
	if len(ms) == 0 {
		return nil, errors.New("manifest.json lists no image")
	}
	if len(ms) > 1 {
		return nil, fmt.Errorf("the archive holds %d images; save one image per archive", len(ms))
	}
	for _, l := range ms[0].Layers {
		if _, ok := idx[path.Clean(l)]; !ok {
			return nil, fmt.Errorf("layer %s named by manifest.json is not in the archive", l)
		}
	}
	return &ms[0], nil
}
