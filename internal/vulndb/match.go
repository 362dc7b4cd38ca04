package vulndb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/vigilsec/vigil/internal/vulndb/osv"
	"github.com/vigilsec/vigil/internal/vulndb/version"
)

// Query is one installed package to match, as an inventory describes it.
type Query struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Ecosystem string `json:"ecosystem"` // OSV ecosystem, e.g. "Debian:12", "Go", "PyPI"
	// SourceName and SourceVersion are the distribution source package a
	// binary package was built from; empty when the same as the binary.
	SourceName    string `json:"source_name,omitempty"`
	SourceVersion string `json:"source_version,omitempty"`
	PURL          string `json:"purl,omitempty"`
}

// Finding is one vulnerability affecting one queried package. Records
// that alias one another (a GO- record and the GHSA for the same CVE)
// make a single finding.
type Finding struct {
	IDs           []string `json:"ids"` // primary first, then the other ids and aliases
	Summary       string   `json:"summary,omitempty"`
	Package       Query    `json:"package"`
	AffectedRange string   `json:"affected_range"`          // the interval holding the version
	FixedVersion  string   `json:"fixed_version,omitempty"` // "" when no fix is known
	Severity      string   `json:"severity"`                // CRITICAL, HIGH, MEDIUM, LOW, NONE or UNKNOWN
	CVSS          float64  `json:"cvss,omitempty"`          // CVSS v3 base score, 0 if none
	Vector        string   `json:"cvss_vector,omitempty"`
	Record        string   `json:"record"`  // the stored record the finding is reported from
	Records       []string `json:"records"` // every stored record that matched
	Notes         []string `json:"notes,omitempty"`
}

// Unevaluated is a package, or a package against one record, that Vigil
// could not evaluate. It is not clean: it is unknown.
type Unevaluated struct {
	Package Query  `json:"package"`
	Record  string `json:"record,omitempty"` // empty when the package as a whole was not evaluated
	Reason  string `json:"reason"`
}

// candidate is one index entry: a record's affected[] entries for one
// package, with the record's meta. Cached candidates are shared between
// matches and never modified.
type candidate struct {
	id       string
	affected []osv.Affected
	meta     recordMeta
}

// hit is one record found to affect a query.
type hit struct {
	id    string
	meta  recordMeta
	v     verdict
	order version.Scheme
}

// Match evaluates each query against the store. Distribution packages
// (Debian, Ubuntu, Alpine) are matched through their source package and
// only against records of the same release. Findings come in query order,
// then by primary id.
func (db *DB) Match(ctx context.Context, queries []Query) ([]Finding, []Unevaluated, error) {
	var findings []Finding
	var unevaluated []Unevaluated
	err := db.bolt.View(func(tx *bolt.Tx) error {
		gen := db.cache.generation()
		for _, q := range queries {
			if err := ctx.Err(); err != nil {
				return err
			}
			f, u, err := db.matchOne(tx, gen, q)
			if err != nil {
				return err
			}
			findings = append(findings, f...)
			unevaluated = append(unevaluated, u...)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("vulndb: match: %w", err)
	}
	return findings, unevaluated, nil
}

func (db *DB) matchOne(tx *bolt.Tx, gen uint64, q Query) ([]Finding, []Unevaluated, error) {
	base, release := splitEcosystem(q.Ecosystem)
	scheme, ok := version.ForEcosystem(base)
	if !ok {
		return nil, []Unevaluated{{Package: q, Reason: fmt.Sprintf("no version ordering for ecosystem %q", q.Ecosystem)}}, nil
	}
	if distroBases[base] && release == "" {
		return nil, []Unevaluated{{Package: q, Reason: fmt.Sprintf("ecosystem %q names no release; %s records are per release", q.Ecosystem, base)}}, nil
	}
	names, ver := lookupNames(base, q)
	if ver == "" {
		return nil, []Unevaluated{{Package: q, Reason: "no version"}}, nil
	}
	if _, err := scheme.Parse(ver); err != nil {
		return nil, []Unevaluated{{Package: q, Reason: err.Error()}}, nil
	}
	var hits []hit
	var unevaluated []Unevaluated
	seen := map[string]bool{}
	for _, name := range names {
		cands, err := db.candidates(tx, gen, base, name)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range cands {
			if seen[c.id] {
				continue
			}
			seen[c.id] = true
			h, reason := evaluateCandidate(c, release, scheme, ver)
			if reason != "" {
				unevaluated = append(unevaluated, Unevaluated{Package: q, Record: c.id, Reason: reason})
			}
			if !h.v.affected {
				continue
			}
			h.id, h.meta, h.order = c.id, c.meta, scheme
			hits = append(hits, h)
		}
	}
	return mergeHits(q, hits), unevaluated, nil
}

// lookupNames gives the index names and the version a query is matched
// under: the source package for ecosystems whose records name sources,
// both names for RPM distributions.
func lookupNames(base string, q Query) ([]string, string) {
	name, ver := q.Name, q.Version
	switch {
	case sourceBases[base] && q.SourceName != "":
		name = q.SourceName
		if q.SourceVersion != "" {
			ver = q.SourceVersion
		}
		return []string{normalizeName(base, name)}, ver
	case rpmBases[base] && q.SourceName != "" && q.SourceName != q.Name:
		return []string{q.Name, q.SourceName}, ver
	}
	return []string{normalizeName(base, name)}, ver
}

// evaluateCandidate checks a record's entries for the query's release;
// a non-empty reason means an entry could not be evaluated.
func evaluateCandidate(c candidate, release string, scheme version.Scheme, ver string) (hit, string) {
	var h hit
	var reasons []string
	for i := range c.affected {
		a := &c.affected[i]
		if _, r := splitEcosystem(a.Package.Ecosystem); r != "" && r != release {
			continue // another release of the distribution
		}
		v, err := evaluate(a, scheme, ver)
		if err != nil {
			reasons = append(reasons, err.Error())
			continue
		}
		if onlyGit(a) {
			reasons = append(reasons, "only GIT ranges, which need the source tree")
		}
		if v.affected && !h.v.affected {
			h.v = v
		}
	}
	return h, strings.Join(reasons, "; ")
}

func onlyGit(a *osv.Affected) bool {
	if len(a.Versions) > 0 || len(a.Ranges) == 0 {
		return false
	}
	for _, r := range a.Ranges {
		if r.Type != osv.RangeGit {
			return false
		}
	}
	return true
}

// candidates reads the index entries of one package, through the cache.
func (db *DB) candidates(tx *bolt.Tx, gen uint64, base, name string) ([]candidate, error) {
	key := base + "\x00" + name
	if c, ok := db.cache.get(key); ok {
		return c, nil
	}
	var out []candidate
	if b := tx.Bucket(bucketIndex).Bucket([]byte(base)); b != nil {
		metaB := tx.Bucket(bucketMeta)
		prefix := []byte(name + "\x00")
		cur := b.Cursor()
		for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
			c := candidate{id: string(k[len(prefix):])}
			if err := json.Unmarshal(v, &c.affected); err != nil {
				return nil, fmt.Errorf("index entry %s/%s: %w", base, k, err)
			}
			raw := metaB.Get([]byte(c.id))
			if raw == nil {
				return nil, fmt.Errorf("index names %s but its meta is missing", c.id)
			}
			if err := json.Unmarshal(raw, &c.meta); err != nil {
				return nil, fmt.Errorf("meta of %s: %w", c.id, err)
			}
			out = append(out, c)
		}
	}
	db.cache.put(key, out, gen)
	return out, nil
}

// mergeHits makes one finding per vulnerability: hits whose ids or
// aliases overlap are merged. The merged finding keeps the highest
// severity and CVSS, and the highest of the records' fixed versions (the
// version every record agrees is fixed); no fix if none gives one.
func mergeHits(q Query, hits []hit) []Finding {
	if len(hits) == 0 {
		return nil
	}
	uf := unionFind{}
	for _, h := range hits {
		uf.union(h.id, h.id)
		for _, a := range h.meta.Aliases {
			uf.union(h.id, a)
		}
	}
	groups := map[string][]hit{}
	var roots []string
	for _, h := range hits {
		r := uf.find(h.id)
		if _, ok := groups[r]; !ok {
			roots = append(roots, r)
		}
		groups[r] = append(groups[r], h)
	}
	out := make([]Finding, 0, len(roots))
	for _, r := range roots {
		out = append(out, merge(q, groups[r]))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].IDs[0] < out[j].IDs[0] })
	return out
}

func merge(q Query, hs []hit) Finding {
	var ids, records []string
	for _, h := range hs {
		ids = append(ids, h.id)
		ids = append(ids, h.meta.Aliases...)
		records = append(records, h.id)
	}
	records = sortIDs(records)
	byID := map[string]hit{}
	for _, h := range hs {
		byID[h.id] = h
	}
	primary := byID[records[0]]
	f := Finding{
		IDs:           sortIDs(ids),
		Summary:       primary.meta.Summary,
		Package:       q,
		AffectedRange: primary.v.desc,
		Severity:      "UNKNOWN",
		Record:        primary.id,
		Records:       records,
	}
	var fixed version.Version
	noteSeen := map[string]bool{}
	for _, id := range records {
		h := byID[id]
		if f.Summary == "" {
			f.Summary = h.meta.Summary
		}
		if severityRank[h.meta.Severity] > severityRank[f.Severity] {
			f.Severity = h.meta.Severity
		}
		if h.meta.Vector != "" && (h.meta.CVSS > f.CVSS || f.Vector == "") {
			f.CVSS, f.Vector = h.meta.CVSS, h.meta.Vector
		}
		if h.v.fixed != "" {
			if fv, err := h.order.Parse(h.v.fixed); err == nil && (fixed == nil || fv.Compare(fixed) > 0) {
				fixed, f.FixedVersion = fv, h.v.fixed
			} else if err != nil && f.FixedVersion == "" {
				f.FixedVersion = h.v.fixed // a SEMVER-range fix outside the ecosystem scheme
			}
		}
		for _, n := range h.v.notes {
			if !noteSeen[n] {
				noteSeen[n] = true
				f.Notes = append(f.Notes, n)
			}
		}
	}
	return f
}
