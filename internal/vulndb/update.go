package vulndb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DefaultSource is where OSV publishes its per-ecosystem dumps, as
// <source>/<ecosystem>/all.zip.
const DefaultSource = "https://osv-vulnerabilities.storage.googleapis.com"

// DefaultEcosystems are the dumps `vigil db update` fetches unless told
// otherwise: the ecosystems Vigil inventories.
var DefaultEcosystems = []string{"Debian", "Ubuntu", "Alpine", "Go", "npm", "PyPI", "Maven", "crates.io", "RubyGems"}

// MaxDumpBytes bounds one downloaded dump (the largest, Debian's and
// Ubuntu's, are a few hundred MiB).
const MaxDumpBytes = 4 << 30

// UpdateOptions configures Update.
type UpdateOptions struct {
	Source     string       // base URL; DefaultSource if empty
	Ecosystems []string     // DefaultEcosystems if empty
	Client     *http.Client // http.DefaultClient with a timeout if nil
	TempDir    string       // where dumps are downloaded; os.TempDir() if empty
}

// UpdateResult is the outcome for one ecosystem.
type UpdateResult struct {
	Ecosystem string      `json:"ecosystem"`
	Bytes     int64       `json:"bytes"`
	Import    ImportStats `json:"import"`
}

// Update downloads each ecosystem's dump and imports it, stamping the
// update time. It stops at the first ecosystem that cannot be fetched,
// keeping what was imported before; an unreachable network gives an error
// that says so and how to import offline.
func (db *DB) Update(ctx context.Context, opts UpdateOptions) ([]UpdateResult, error) {
	if opts.Source == "" {
		opts.Source = DefaultSource
	}
	if len(opts.Ecosystems) == 0 {
		opts.Ecosystems = DefaultEcosystems
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 30 * time.Minute}
	}
	var results []UpdateResult
	for _, eco := range opts.Ecosystems {
		res, err := db.updateOne(ctx, opts, eco)
		if err != nil {
			return results, err
		}
		results = append(results, res)
	}
	return results, nil
}

func (db *DB) updateOne(ctx context.Context, opts UpdateOptions, eco string) (_ UpdateResult, err error) {
	res := UpdateResult{Ecosystem: eco}
	u := strings.TrimRight(opts.Source, "/") + "/" + url.PathEscape(eco) + "/all.zip"
	tmp, err := os.CreateTemp(opts.TempDir, "vigil-osv-*.zip")
	if err != nil {
		return res, fmt.Errorf("vulndb: update %s: %w", eco, err)
	}
	defer func() {
		// Closed and checked below once written; this close is for the
		// early returns, where the download failed already. The dump is
		// large and must not be left behind.
		_ = tmp.Close()
		err = errors.Join(err, os.Remove(tmp.Name()))
	}()

	res.Bytes, err = download(ctx, opts.Client, u, tmp)
	if err != nil {
		return res, fmt.Errorf("vulndb: update %s: %w", eco, err)
	}
	if err := tmp.Close(); err != nil {
		return res, fmt.Errorf("vulndb: update %s: %w", eco, err)
	}
	res.Import, err = db.Import(ctx, tmp.Name())
	if err != nil {
		return res, fmt.Errorf("vulndb: update %s: %w", eco, err)
	}
	if res.Import.Records == 0 {
		return res, fmt.Errorf("vulndb: update %s: %s held no readable records (%d bad)", eco, u, res.Import.Bad)
	}
	now := time.Now().UTC()
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		return updateEcosystem(tx, eco, func(s *EcosystemStatus) { s.LastUpdate = now })
	})
	if err != nil {
		return res, fmt.Errorf("vulndb: update %s: %w", eco, err)
	}
	return res, nil
}

// download copies u into w, bounded by MaxDumpBytes.
func download(ctx context.Context, c *http.Client, u string, w io.Writer) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		var ne net.Error
		var oe *net.OpError
		var de *net.DNSError
		if errors.As(err, &de) || errors.As(err, &oe) || (errors.As(err, &ne) && ne.Timeout()) {
			return 0, fmt.Errorf("cannot reach %s (offline? download the dump elsewhere and run `vigil db import` on it): %w", u, err)
		}
		return 0, fmt.Errorf("fetch %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("fetch %s: %s", u, resp.Status)
	}
	n, err := io.Copy(w, io.LimitReader(resp.Body, MaxDumpBytes+1))
	if err != nil {
		return n, fmt.Errorf("fetch %s: %w", u, err)
	}
	if n > MaxDumpBytes {
		return n, fmt.Errorf("fetch %s: larger than %d bytes", u, int64(MaxDumpBytes))
	}
	return n, nil
}
