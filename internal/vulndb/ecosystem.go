package vulndb

import (
	"strings"
	"unicode"
)

// distroBases are ecosystems whose records are per distribution release
// ("Debian:12"): a record matches only an inventory of that release.
var distroBases = map[string]bool{
	"Debian": true, "Ubuntu": true, "Alpine": true,
	"AlmaLinux": true, "Rocky Linux": true, "Red Hat": true,
	"openSUSE": true, "SUSE": true, "Mageia": true, "openEuler": true,
}

// sourceBases are ecosystems whose records name the source package
// (Debian's source, Alpine's origin), not the binary packages built from it.
var sourceBases = map[string]bool{
	"Debian": true, "Ubuntu": true, "Alpine": true, "Wolfi": true, "Chainguard": true,
}

// rpmBases publish records that may name binary or source packages, so
// both names are looked up.
var rpmBases = map[string]bool{
	"AlmaLinux": true, "Rocky Linux": true, "Red Hat": true,
	"openSUSE": true, "SUSE": true, "Mageia": true, "openEuler": true,
}

// splitEcosystem splits "Debian:12" into its base and the release Vigil
// compares: Debian and RPM distributions compare the major release
// ("12.5" is 12), Alpine and Ubuntu major.minor ("v3.19.1" is 3.19,
// "Pro:18.04:LTS" is 18.04). Non-distribution ecosystems have no release
// (a suffix such as Maven's registry URL is ignored).
func splitEcosystem(eco string) (base, release string) {
	base, rest, _ := strings.Cut(eco, ":")
	if !distroBases[base] {
		return base, ""
	}
	for seg := range strings.SplitSeq(rest, ":") {
		seg = strings.TrimPrefix(seg, "v")
		if seg == "" || !unicode.IsDigit(rune(seg[0])) {
			continue
		}
		parts := strings.Split(seg, ".")
		keep := 1
		if base == "Alpine" || base == "Ubuntu" {
			keep = 2
		}
		if len(parts) < keep {
			keep = len(parts)
		}
		return base, strings.Join(parts[:keep], ".")
	}
	return base, ""
}

// normalizeName gives the form package names are indexed and looked up
// under. PyPI names compare case-insensitively with runs of "-", "_" and
// "." equivalent (PEP 503); npm names are already lower case; other
// ecosystems are case-sensitive.
func normalizeName(base, name string) string {
	if base != "PyPI" {
		return name
	}
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(name) {
		if r == '-' || r == '_' || r == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		b.WriteRune(r)
	}
	return b.String()
}
