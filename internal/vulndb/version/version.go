// Package version orders package versions the way each OSV ecosystem does.
//
// OSV ranges of type ECOSYSTEM are only meaningful under the ecosystem's own
// ordering (Debian's epochs and tildes, Alpine's -r revisions, PEP 440 …), so
// every ecosystem Vigil evaluates has a Scheme here. An ecosystem without one
// is reported by the matcher as unevaluated, never as clean.
package version

import (
	"fmt"
	"strings"
)

// Version is one parsed version. Compare is only defined between versions
// parsed by the same Scheme.
type Version interface {
	// Compare returns -1, 0 or +1 as the receiver sorts before, equal to or
	// after other.
	Compare(other Version) int
	// String returns the version as it was given.
	String() string
}

// Scheme parses the versions of one ordering family.
type Scheme interface {
	// Name identifies the ordering, e.g. "debian" or "pep440".
	Name() string
	// Parse returns an error naming the version when it is not valid in
	// this scheme.
	Parse(s string) (Version, error)
}

// schemes maps an OSV ecosystem base (the part before the first ':') to
// its ordering.
var schemes = map[string]Scheme{
	"Go":          Go,
	"npm":         SemVer,
	"crates.io":   SemVer,
	"PyPI":        PEP440,
	"Maven":       Maven,
	"RubyGems":    RubyGems,
	"Debian":      Debian,
	"Ubuntu":      Debian,
	"Alpine":      APK,
	"Wolfi":       APK,
	"Chainguard":  APK,
	"AlmaLinux":   RPM,
	"Rocky Linux": RPM,
	"Red Hat":     RPM,
	"openSUSE":    RPM,
	"SUSE":        RPM,
	"Mageia":      RPM,
	"openEuler":   RPM,
}

// ForEcosystem returns the ordering of an OSV ecosystem such as "Debian:12"
// or "PyPI"; false means Vigil cannot order that ecosystem's versions.
func ForEcosystem(ecosystem string) (Scheme, bool) {
	base, _, _ := strings.Cut(ecosystem, ":")
	s, ok := schemes[base]
	return s, ok
}

// parseErr names the scheme and the offending version.
func parseErr(scheme, v string, why any) error {
	return fmt.Errorf("invalid %s version %q: %v", scheme, v, why)
}

// guard turns a panic inside a third-party parser into an error: a
// malformed version in a record must never bring the scanner down.
func guard(scheme, v string, err *error) {
	if r := recover(); r != nil {
		*err = parseErr(scheme, v, fmt.Sprint("parser panic: ", r))
	}
}

// safeCompare runs a third-party comparison, treating a panic as equality;
// Parse has already validated both sides, so this is defence in depth.
func safeCompare(f func() int) (c int) {
	defer func() {
		if recover() != nil {
			c = 0
		}
	}()
	return f()
}

// sign clamps a comparison result to -1, 0 or +1.
func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}
