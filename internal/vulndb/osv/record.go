// Package osv decodes and validates vulnerability records in the OSV
// format (https://ossf.github.io/osv-schema/).
package osv

import (
	"encoding/json"
	"time"
)

// Record is one OSV vulnerability record, with the fields Vigil reads.
// Unknown fields are ignored, as the schema asks of consumers.
type Record struct {
	SchemaVersion    string          `json:"schema_version,omitempty"`
	ID               string          `json:"id"`
	Modified         string          `json:"modified"`
	Published        string          `json:"published,omitempty"`
	Withdrawn        string          `json:"withdrawn,omitempty"`
	Aliases          []string        `json:"aliases,omitempty"`
	Related          []string        `json:"related,omitempty"`
	Summary          string          `json:"summary,omitempty"`
	Details          string          `json:"details,omitempty"`
	Severity         []Severity      `json:"severity,omitempty"`
	Affected         []Affected      `json:"affected,omitempty"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`

	// Raw is the record's JSON as it was read, kept whole for reports
	// (references, credits and other fields Vigil does not interpret).
	Raw []byte `json:"-"`
}

// Severity is one entry of a severity[] list: a type such as CVSS_V3 and
// its score, which for CVSS types is the vector string.
type Severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Affected is one affected[] entry: a package and the versions of it that
// the vulnerability affects.
type Affected struct {
	Package           Package         `json:"package"`
	Severity          []Severity      `json:"severity,omitempty"`
	Ranges            []Range         `json:"ranges,omitempty"`
	Versions          []string        `json:"versions,omitempty"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific,omitempty"`
	DatabaseSpecific  json.RawMessage `json:"database_specific,omitempty"`
}

// Package names a package within an OSV ecosystem ("Debian:12", "PyPI").
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	PURL      string `json:"purl,omitempty"`
}

// Range types defined by the schema.
const (
	RangeSemVer    = "SEMVER"
	RangeEcosystem = "ECOSYSTEM"
	RangeGit       = "GIT"
)

// Range is a list of events that, sorted by version, bound the affected
// versions.
type Range struct {
	Type   string  `json:"type"`
	Repo   string  `json:"repo,omitempty"`
	Events []Event `json:"events"`
}

// Event is one range event; exactly one field is set. Introduced "0"
// means "since the first version"; Limit "*" means "no limit".
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// ModifiedAt is the record's last modification time; Validate has
// checked that it parses.
func (r *Record) ModifiedAt() time.Time {
	t, _ := time.Parse(time.RFC3339, r.Modified)
	return t
}

// IsWithdrawn reports whether the publisher has withdrawn the record.
func (r *Record) IsWithdrawn() bool { return r.Withdrawn != "" }
