package vulndb

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vigilsec/vigil/internal/vulndb/osv"
)

// recordMeta is what matching needs of a record besides its ranges, so a
// finding is built without inflating the whole record.
type recordMeta struct {
	Modified  time.Time  `json:"m"`
	Withdrawn bool       `json:"w,omitempty"`
	Aliases   []string   `json:"a,omitempty"`
	Summary   string     `json:"s,omitempty"`
	Severity  string     `json:"sev"`
	CVSS      float64    `json:"cvss,omitempty"`
	Vector    string     `json:"vec,omitempty"`
	Bases     []string   `json:"b,omitempty"` // ecosystem bases it affects
	Keys      []indexKey `json:"k,omitempty"` // its index entries, to remove on replace
}

type indexKey struct {
	Base string `json:"b"`
	Name string `json:"n"`
}

func (k indexKey) bytes(id string) []byte {
	return []byte(k.Name + "\x00" + id)
}

// putOutcome says what storing one record did.
type putOutcome int

const (
	putAdded putOutcome = iota
	putReplaced
	putOlder // the store already has a newer version
)

// put stores r in tx, replacing an older or equally recent version of the
// same id; touched collects the ecosystem bases whose counts changed.
func put(tx *bolt.Tx, r *osv.Record, touched map[string]bool) (putOutcome, error) {
	metaB, recB, idxB := tx.Bucket(bucketMeta), tx.Bucket(bucketRecords), tx.Bucket(bucketIndex)
	id := []byte(r.ID)
	outcome := putAdded
	if raw := metaB.Get(id); raw != nil {
		var old recordMeta
		if err := json.Unmarshal(raw, &old); err != nil {
			return 0, fmt.Errorf("stored meta of %s: %w", r.ID, err)
		}
		if old.Modified.After(r.ModifiedAt()) {
			return putOlder, nil
		}
		if err := unindex(tx, r.ID, &old, touched); err != nil {
			return 0, err
		}
		outcome = putReplaced
	}

	meta := recordMeta{Modified: r.ModifiedAt(), Withdrawn: r.IsWithdrawn(), Aliases: r.Aliases, Summary: r.Summary}
	meta.Severity, meta.CVSS, meta.Vector = recordSeverity(r)
	entries := groupAffected(r)
	seenBase := map[string]bool{}
	for _, e := range entries {
		if !seenBase[e.key.Base] {
			seenBase[e.key.Base] = true
			meta.Bases = append(meta.Bases, e.key.Base)
		}
		if meta.Withdrawn {
			continue // kept for its modified time, never matched
		}
		b, err := idxB.CreateBucketIfNotExists([]byte(e.key.Base))
		if err != nil {
			return 0, err
		}
		val, err := json.Marshal(e.affected)
		if err != nil {
			return 0, err
		}
		if err := b.Put(e.key.bytes(r.ID), val); err != nil {
			return 0, err
		}
		meta.Keys = append(meta.Keys, e.key)
	}
	for _, base := range meta.Bases {
		if err := adjustCount(tx, base, 1, meta.Withdrawn); err != nil {
			return 0, err
		}
		touched[base] = true
	}
	mv, err := json.Marshal(meta)
	if err != nil {
		return 0, err
	}
	if err := metaB.Put(id, mv); err != nil {
		return 0, err
	}
	comp, err := deflate(r.Raw)
	if err != nil {
		return 0, err
	}
	return outcome, recB.Put(id, comp)
}

// unindex removes an older version's index entries and counts.
func unindex(tx *bolt.Tx, id string, old *recordMeta, touched map[string]bool) error {
	idxB := tx.Bucket(bucketIndex)
	for _, k := range old.Keys {
		if b := idxB.Bucket([]byte(k.Base)); b != nil {
			if err := b.Delete(k.bytes(id)); err != nil {
				return err
			}
		}
	}
	for _, base := range old.Bases {
		if err := adjustCount(tx, base, -1, old.Withdrawn); err != nil {
			return err
		}
		touched[base] = true
	}
	return nil
}

func adjustCount(tx *bolt.Tx, base string, delta int, withdrawn bool) error {
	return updateEcosystem(tx, base, func(s *EcosystemStatus) {
		s.Records += delta
		if withdrawn {
			s.Withdrawn += delta
		}
	})
}

// updateEcosystem applies f to the stored status of base.
func updateEcosystem(tx *bolt.Tx, base string, f func(*EcosystemStatus)) error {
	b := tx.Bucket(bucketEcosystems)
	var s EcosystemStatus
	if raw := b.Get([]byte(base)); raw != nil {
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("ecosystem %q status: %w", base, err)
		}
	}
	f(&s)
	s.Ecosystem = ""
	v, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return b.Put([]byte(base), v)
}

// affectedGroup is the affected[] entries of one record for one package.
type affectedGroup struct {
	key      indexKey
	affected []osv.Affected
}

// groupAffected gathers a record's affected entries by (base, normalized
// name), stripped of what matching does not read. Entries without a
// package (GIT-only) cannot be matched against an inventory and are left
// out of the index.
func groupAffected(r *osv.Record) []affectedGroup {
	var out []affectedGroup
	pos := map[indexKey]int{}
	for _, a := range r.Affected {
		if a.Package.Name == "" {
			continue
		}
		base, _ := splitEcosystem(a.Package.Ecosystem)
		k := indexKey{Base: base, Name: normalizeName(base, a.Package.Name)}
		slim := osv.Affected{Package: a.Package, Ranges: a.Ranges, Versions: a.Versions}
		if i, ok := pos[k]; ok {
			out[i].affected = append(out[i].affected, slim)
			continue
		}
		pos[k] = len(out)
		out = append(out, affectedGroup{key: k, affected: []osv.Affected{slim}})
	}
	return out
}

// deflaters are reused: a flate writer allocates about 1 MiB of state,
// which would otherwise dominate an import.
var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

func deflate(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	w := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(w)
	w.Reset(&buf)
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func inflate(b []byte) ([]byte, error) {
	return io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(b)), osv.MaxRecordBytes))
}

// Record returns the stored record id in full, for reports; false if the
// store does not have it.
func (db *DB) Record(id string) (*osv.Record, bool, error) {
	var raw []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketRecords).Get([]byte(id)); v != nil {
			var err error
			raw, err = inflate(v)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("vulndb: record %s: %w", id, err)
	}
	if raw == nil {
		return nil, false, nil
	}
	r, err := osv.Decode(raw)
	if err != nil {
		return nil, false, fmt.Errorf("vulndb: stored record %s: %w", id, err)
	}
	return r, true, nil
}
