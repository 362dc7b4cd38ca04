// Package vulndb is Vigil's offline vulnerability database: OSV records
// imported from files, directories or the published per-ecosystem zip
// dumps into an embedded bbolt store, indexed by ecosystem and package,
// and matched against package inventories with each ecosystem's own
// version ordering.
package vulndb

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// DefaultPath is where the agent and the CLI keep the database.
const DefaultPath = "/var/lib/vigil/vulndb.db"

// Bucket names. index holds one sub-bucket per ecosystem base, keyed by
// normalized package name + NUL + record id, so a package's candidates
// are one cursor seek.
var (
	bucketRecords    = []byte("records")    // id → deflated record JSON
	bucketMeta       = []byte("meta")       // id → recordMeta JSON
	bucketIndex      = []byte("index")      // base → name\x00id → []osv.Affected JSON
	bucketEcosystems = []byte("ecosystems") // base → EcosystemStatus JSON
)

// DB is an open vulnerability database. Its methods are safe for
// concurrent use; bbolt serialises writers.
type DB struct {
	bolt  *bolt.DB
	path  string
	cache *candidateCache
}

// Open opens or creates the database at path, creating its directory.
// Another process holding the file open for writing makes Open fail after
// a few seconds rather than hang.
func Open(path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("vulndb: %w", err)
	}
	b, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("vulndb: %s is locked by another process", path)
		}
		return nil, fmt.Errorf("vulndb: open %s: %w", path, err)
	}
	if err := createBuckets(b); err != nil {
		return nil, errors.Join(fmt.Errorf("vulndb: %s: %w", path, err), b.Close())
	}
	return &DB{bolt: b, path: path, cache: newCandidateCache(candidateCacheSize)}, nil
}

// createBuckets makes the top-level buckets of a new store; an existing
// one is only read, so opening does not write.
func createBuckets(b *bolt.DB) error {
	names := [][]byte{bucketRecords, bucketMeta, bucketIndex, bucketEcosystems}
	missing := false
	err := b.View(func(tx *bolt.Tx) error {
		for _, name := range names {
			missing = missing || tx.Bucket(name) == nil
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !missing {
		return nil
	}
	return b.Update(func(tx *bolt.Tx) error {
		for _, name := range names {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close releases the database file.
func (db *DB) Close() error { return db.bolt.Close() }

// Path is the database file.
func (db *DB) Path() string { return db.path }

// EcosystemStatus describes one ecosystem base in the store.
type EcosystemStatus struct {
	Ecosystem  string    `json:"ecosystem"`
	Records    int       `json:"records"`   // stored records affecting it, withdrawn included
	Withdrawn  int       `json:"withdrawn"` // of those, withdrawn (never matched)
	LastImport time.Time `json:"last_import,omitzero"`
	LastUpdate time.Time `json:"last_update,omitzero"`
}

// Status lists the ecosystems in the store, by name.
func (db *DB) Status() ([]EcosystemStatus, error) {
	var out []EcosystemStatus
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEcosystems).ForEach(func(k, v []byte) error {
			var s EcosystemStatus
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("ecosystem %q: %w", k, err)
			}
			s.Ecosystem = string(k)
			out = append(out, s)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("vulndb: status: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ecosystem < out[j].Ecosystem })
	return out, nil
}

// candidateCacheSize bounds the decoded index entries kept between
// matches: about one per distinct package of a large host.
const candidateCacheSize = 16384

// candidateCache keeps decoded index entries by ecosystem base and name,
// so a rescan does not decode the same JSON again. It is cleared whenever
// the store changes.
type candidateCache struct {
	mu      sync.Mutex
	max     int
	entries map[string][]candidate
	evicted uint64
	gen     uint64 // bumped by clear, so a match that read before an import cannot cache stale entries after it
}

func newCandidateCache(max int) *candidateCache {
	return &candidateCache{max: max, entries: make(map[string][]candidate)}
}

func (c *candidateCache) get(key string) ([]candidate, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.entries[key]
	return v, ok
}

func (c *candidateCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *candidateCache) put(key string, v []candidate, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= c.max {
		for k := range c.entries { // evict an arbitrary entry
			delete(c.entries, k)
			c.evicted++
			break
		}
	}
	c.entries[key] = v
}

func (c *candidateCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
	c.gen++
}

// CacheEvictions counts decoded index entries dropped because the match
// cache was full.
func (db *DB) CacheEvictions() uint64 {
	db.cache.mu.Lock()
	defer db.cache.mu.Unlock()
	return db.cache.evicted
}
