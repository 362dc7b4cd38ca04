package vulndb

import (
	"encoding/json"
	"strings"

	"github.com/vigilsec/vigil/internal/vulndb/cvss"
	"github.com/vigilsec/vigil/internal/vulndb/osv"
)

// severityRank orders normalized severities; a finding merged from
// several records keeps the highest.
var severityRank = map[string]int{"UNKNOWN": 0, "NONE": 1, "LOW": 2, "MEDIUM": 3, "HIGH": 4, "CRITICAL": 5}

// normalizeSeverity maps publishers' words to one scale: GitHub's
// MODERATE is MEDIUM, Debian's "unimportant" and Ubuntu's "negligible"
// are LOW.
func normalizeSeverity(s string) string {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "CRITICAL":
		return "CRITICAL"
	case "HIGH", "IMPORTANT":
		return "HIGH"
	case "MEDIUM", "MODERATE":
		return "MEDIUM"
	case "LOW", "NEGLIGIBLE", "UNIMPORTANT", "MINOR":
		return "LOW"
	case "NONE":
		return "NONE"
	}
	return ""
}

// textSeverity reads a "severity" string member of a database_specific or
// ecosystem_specific object, if there is one.
func textSeverity(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var obj struct {
		Severity any `json:"severity"`
	}
	if json.Unmarshal(raw, &obj) != nil {
		return ""
	}
	if s, ok := obj.Severity.(string); ok {
		return normalizeSeverity(s)
	}
	return ""
}

// recordSeverity extracts a record's severity: the highest CVSS v3 base
// score among its severity[] vectors (record-level and per package), and
// a textual severity. The publisher's own word (database_specific or
// ecosystem_specific severity, or an "Ubuntu" severity entry) is preferred
// because a distribution rates the flaw in its own build; without one the
// CVSS rating is used.
func recordSeverity(r *osv.Record) (text string, score float64, vector string) {
	consider := func(list []osv.Severity) {
		for _, s := range list {
			switch s.Type {
			case "CVSS_V3":
				v, err := cvss.ParseV3(s.Score)
				if err != nil {
					continue
				}
				if b := v.BaseScore(); b > score || vector == "" {
					score, vector = b, s.Score
				}
			case "Ubuntu":
				if t := normalizeSeverity(s.Score); severityRank[t] > severityRank[text] {
					text = t
				}
			}
		}
	}
	consider(r.Severity)
	if t := textSeverity(r.DatabaseSpecific); severityRank[t] > severityRank[text] {
		text = t
	}
	for _, a := range r.Affected {
		consider(a.Severity)
		for _, raw := range []json.RawMessage{a.EcosystemSpecific, a.DatabaseSpecific} {
			if t := textSeverity(raw); severityRank[t] > severityRank[text] {
				text = t
			}
		}
	}
	if text == "" && vector != "" {
		text = cvss.Rating(score)
	}
	if text == "" {
		text = "UNKNOWN"
	}
	return text, score, vector
}
