package cvss

import (
	"strings"
	"testing"
)

func TestBaseScore(t *testing.T) {
	// Scores as published by NVD for these vectors.
	for vec, want := range map[string]float64{
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H":               9.8,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H":               10.0,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H":               7.5,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N":               6.1,
		"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H":               7.8,
		"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N":               5.9,
		"CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H":               8.8,
		"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N":               1.6,
		"CVSS:3.1/AV:N/AC:L/PR:H/UI:R/S:C/C:L/I:L/A:N":               4.8,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N":               0,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C": 9.8,
	} {
		v, err := ParseV3(vec)
		if err != nil {
			t.Fatalf("ParseV3(%q): %v", vec, err)
		}
		if got := v.BaseScore(); got != want {
			t.Errorf("BaseScore(%q) = %v, want %v", vec, got, want)
		}
	}
}

func TestParseV3Errors(t *testing.T) {
	for vec, want := range map[string]string{
		"AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H":               "want prefix",
		"CVSS:2.0/AV:N":                                     "want prefix",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H":          "missing base metric A",
		"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H":      `invalid value "X" for AV`,
		"CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H": "metric AV repeated",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1": `unknown metric "ZZ"`,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A":        `malformed metric "A"`,
	} {
		_, err := ParseV3(vec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseV3(%q) = %v, want error containing %q", vec, err, want)
		}
	}
}

func TestRating(t *testing.T) {
	for score, want := range map[float64]string{0: "NONE", 0.1: "LOW", 3.9: "LOW", 4: "MEDIUM", 6.9: "MEDIUM", 7: "HIGH", 8.9: "HIGH", 9: "CRITICAL", 10: "CRITICAL"} {
		if got := Rating(score); got != want {
			t.Errorf("Rating(%v) = %s, want %s", score, got, want)
		}
	}
}

func FuzzParseV3(f *testing.F) {
	f.Fuzz(func(t *testing.T, vec string) {
		v, err := ParseV3(vec)
		if err != nil {
			return
		}
		if s := v.BaseScore(); s < 0 || s > 10 {
			t.Fatalf("BaseScore(%q) = %v out of range", vec, s)
		}
	})
}
