// Package cvss computes CVSS v3.0 and v3.1 base scores from vector strings,
// as OSV records carry them in severity[].score.
package cvss

import (
	"fmt"
	"math"
	"strings"
)

// V3 is a parsed CVSS v3.x vector's base metrics.
type V3 struct {
	Minor                      int // 0 or 1: CVSS:3.0 or CVSS:3.1
	AV, AC, PR, UI, S, C, I, A byte
}

// base metric name → allowed values.
var baseMetrics = map[string]string{
	"AV": "NALP", "AC": "LH", "PR": "NLH", "UI": "NR", "S": "UC",
	"C": "HLN", "I": "HLN", "A": "HLN",
}

// otherMetrics are the temporal and environmental metrics: allowed, not
// part of the base score.
var otherMetrics = map[string]string{
	"E": "XUPFH", "RL": "XOTWU", "RC": "XURC",
	"CR": "XLMH", "IR": "XLMH", "AR": "XLMH",
	"MAV": "XNALP", "MAC": "XLH", "MPR": "XNLH", "MUI": "XNR", "MS": "XUC",
	"MC": "XNLH", "MI": "XNLH", "MA": "XNLH",
}

// ParseV3 reads "CVSS:3.1/AV:N/AC:L/…". Every base metric must be present
// exactly once; errors name the offending part.
func ParseV3(vector string) (V3, error) {
	var v V3
	parts := strings.Split(vector, "/")
	switch parts[0] {
	case "CVSS:3.0":
		v.Minor = 0
	case "CVSS:3.1":
		v.Minor = 1
	default:
		return v, fmt.Errorf("cvss: %q: want prefix CVSS:3.0 or CVSS:3.1", vector)
	}
	seen := map[string]bool{}
	for _, p := range parts[1:] {
		name, val, ok := strings.Cut(p, ":")
		if !ok || len(val) != 1 {
			return v, fmt.Errorf("cvss: %q: malformed metric %q", vector, p)
		}
		allowed, base := baseMetrics[name]
		if !base {
			allowed, ok = otherMetrics[name]
			if !ok {
				return v, fmt.Errorf("cvss: %q: unknown metric %q", vector, name)
			}
		}
		if !strings.Contains(allowed, val) {
			return v, fmt.Errorf("cvss: %q: invalid value %q for %s", vector, val, name)
		}
		if seen[name] {
			return v, fmt.Errorf("cvss: %q: metric %s repeated", vector, name)
		}
		seen[name] = true
		if base {
			v.set(name, val[0])
		}
	}
	for name := range baseMetrics {
		if !seen[name] {
			return v, fmt.Errorf("cvss: %q: missing base metric %s", vector, name)
		}
	}
	return v, nil
}

func (v *V3) set(name string, val byte) {
	switch name {
	case "AV":
		v.AV = val
	case "AC":
		v.AC = val
	case "PR":
		v.PR = val
	case "UI":
		v.UI = val
	case "S":
		v.S = val
	case "C":
		v.C = val
	case "I":
		v.I = val
	case "A":
		v.A = val
	}
}

// BaseScore is the specification's base score, 0.0 to 10.0.
func (v V3) BaseScore() float64 {
	changed := v.S == 'C'
	av := map[byte]float64{'N': 0.85, 'A': 0.62, 'L': 0.55, 'P': 0.2}[v.AV]
	ac := map[byte]float64{'L': 0.77, 'H': 0.44}[v.AC]
	ui := map[byte]float64{'N': 0.85, 'R': 0.62}[v.UI]
	var pr float64
	switch v.PR {
	case 'N':
		pr = 0.85
	case 'L':
		pr = 0.62
		if changed {
			pr = 0.68
		}
	case 'H':
		pr = 0.27
		if changed {
			pr = 0.5
		}
	}
	cia := func(b byte) float64 { return map[byte]float64{'H': 0.56, 'L': 0.22, 'N': 0}[b] }
	iss := 1 - (1-cia(v.C))*(1-cia(v.I))*(1-cia(v.A))
	var impact float64
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	} else {
		impact = 6.42 * iss
	}
	if impact <= 0 {
		return 0
	}
	exploitability := 8.22 * av * ac * pr * ui
	if changed {
		return roundUp(math.Min(1.08*(impact+exploitability), 10))
	}
	return roundUp(math.Min(impact+exploitability, 10))
}

// roundUp is the v3.1 Roundup: the smallest one-decimal number not below x,
// computed on integers so that float noise (4.000000000001) does not bump
// a score. v3.0's plain ceiling differs from it only by that noise, so both
// versions use it.
func roundUp(x float64) float64 {
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return float64(i) / 100000
	}
	return float64(i/10000+1) / 10
}

// Rating is the qualitative severity of a base score: NONE, LOW, MEDIUM,
// HIGH or CRITICAL.
func Rating(score float64) string {
	switch {
	case score == 0:
		return "NONE"
	case score < 4:
		return "LOW"
	case score < 7:
		return "MEDIUM"
	case score < 9:
		return "HIGH"
	}
	return "CRITICAL"
}
