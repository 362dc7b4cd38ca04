package vulndb

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vigilsec/vigil/internal/vulndb/osv"
)

// importBatch is how many records one write transaction stores: large
// enough that a dump imports in seconds, small enough to bound memory.
const importBatch = 1000

// MaxProblems bounds the bad records an import describes; the rest are
// only counted in ImportStats.Bad.
const MaxProblems = 100

// ImportStats summarises an import.
type ImportStats struct {
	Files     int       `json:"files"`     // JSON files and zip entries read
	Records   int       `json:"records"`   // valid records read
	Added     int       `json:"added"`     // new ids
	Replaced  int       `json:"replaced"`  // ids stored again (same or newer modified)
	Older     int       `json:"older"`     // skipped: the store has a newer version
	Withdrawn int       `json:"withdrawn"` // of the stored ones, withdrawn (kept, never matched)
	Bad       int       `json:"bad"`       // records or files that could not be read
	Problems  []Problem `json:"problems,omitempty"`
}

// Problem is one bad record or file, placed as precisely as known.
type Problem struct {
	Source string `json:"source"` // file, or "archive.zip!entry.json"
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	Err    string `json:"error"`
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", p.Source, p.Line, p.Column, p.Err)
	}
	return fmt.Sprintf("%s: %s", p.Source, p.Err)
}

// importer accumulates records and writes them in batches.
type importer struct {
	db      *DB
	stats   ImportStats
	batch   []*osv.Record
	touched map[string]bool
}

// Import reads OSV records from each path, a JSON file (one record or an
// array), a directory (searched recursively for .json and .zip files) or
// a zip dump, and stores them. Bad records are counted and described in
// the stats, never fatal; the error is for what stops the import as a
// whole (a missing path, a store failure, a cancelled context).
func (db *DB) Import(ctx context.Context, paths ...string) (ImportStats, error) {
	im := &importer{db: db, touched: map[string]bool{}}
	defer db.cache.clear()
	for _, p := range paths {
		if err := im.path(ctx, p); err != nil {
			return im.stats, err
		}
	}
	if err := im.flush(); err != nil {
		return im.stats, err
	}
	return im.stats, nil
}

func (im *importer) path(ctx context.Context, p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("vulndb: import: %w", err)
	}
	if !st.IsDir() {
		return im.file(ctx, p, true)
	}
	return filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			im.problem(Problem{Source: path, Err: err.Error()})
			return nil
		}
		if d.IsDir() {
			return nil
		}
		return im.file(ctx, path, false)
	})
}

// file imports a zip or JSON file. Inside directories, files that are
// neither are skipped; named explicitly, anything not a zip is read as
// JSON.
func (im *importer) file(ctx context.Context, path string, explicit bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case strings.HasSuffix(path, ".zip"):
		return im.zip(ctx, path)
	case strings.HasSuffix(path, ".json") || explicit:
		f, err := os.Open(path)
		if err != nil {
			im.problem(Problem{Source: path, Err: err.Error()})
			return nil
		}
		defer f.Close() //nolint:errcheck // read-only: closing loses nothing
		return im.json(path, f)
	}
	return nil
}

func (im *importer) zip(ctx context.Context, path string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		im.problem(Problem{Source: path, Err: "not a readable zip: " + err.Error()})
		return nil
	}
	defer zr.Close() //nolint:errcheck // read-only: closing loses nothing
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		if f.FileInfo().IsDir() || !strings.HasSuffix(f.Name, ".json") {
			continue
		}
		src := path + "!" + f.Name
		rc, err := f.Open()
		if err != nil {
			im.problem(Problem{Source: src, Err: err.Error()})
			continue
		}
		err = im.json(src, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// json decodes one source; only a store failure is returned.
func (im *importer) json(src string, r io.Reader) error {
	im.stats.Files++
	data, err := io.ReadAll(io.LimitReader(r, osv.MaxRecordBytes+1))
	if err != nil {
		im.problem(Problem{Source: src, Err: err.Error()})
		return nil
	}
	if len(data) > osv.MaxRecordBytes {
		im.problem(Problem{Source: src, Err: fmt.Sprintf("larger than %d bytes", osv.MaxRecordBytes)})
		return nil
	}
	recs, errs := osv.DecodeAll(data)
	for _, e := range errs {
		p := Problem{Source: src, Err: e.Error()}
		var de *osv.DecodeError
		if errors.As(e, &de) {
			p.Line, p.Column = de.Line, de.Column
			p.Err = de.Err.Error()
			if de.ID != "" {
				p.Err = de.ID + ": " + p.Err
			}
		}
		im.problem(p)
	}
	im.stats.Records += len(recs)
	im.batch = append(im.batch, recs...)
	if len(im.batch) >= importBatch {
		return im.flush()
	}
	return nil
}

func (im *importer) problem(p Problem) {
	im.stats.Bad++
	if len(im.stats.Problems) < MaxProblems {
		im.stats.Problems = append(im.stats.Problems, p)
	}
}

// flush stores the batch in one transaction and stamps the import time on
// the ecosystems it touched.
func (im *importer) flush() error {
	if len(im.batch) == 0 {
		return nil
	}
	now := time.Now().UTC()
	err := im.db.bolt.Update(func(tx *bolt.Tx) error {
		for _, r := range im.batch {
			out, err := put(tx, r, im.touched)
			if err != nil {
				return fmt.Errorf("store %s: %w", r.ID, err)
			}
			switch out {
			case putAdded:
				im.stats.Added++
			case putReplaced:
				im.stats.Replaced++
			case putOlder:
				im.stats.Older++
				continue
			}
			if r.IsWithdrawn() {
				im.stats.Withdrawn++
			}
		}
		for base := range im.touched {
			if err := updateEcosystem(tx, base, func(s *EcosystemStatus) { s.LastImport = now }); err != nil {
				return err
			}
		}
		return nil
	})
	im.batch = im.batch[:0]
	im.db.cache.clear()
	if err != nil {
		return fmt.Errorf("vulndb: import: %w", err)
	}
	return nil
}
