package version

import (
	"strings"

	"golang.org/x/mod/semver"
)

// Go is the Go module ordering (golang.org/x/mod/semver), which also reads
// Go toolchain versions ("go1.21rc2") for the "stdlib" and "toolchain"
// packages of the Go vulnerability database.
var Go Scheme = goScheme{}

type goScheme struct{}

type goVersion struct {
	raw   string
	canon string // with the "v" prefix x/mod/semver requires
}

func (goScheme) Name() string { return "go" }

func (goScheme) Parse(s string) (Version, error) {
	v := s
	if strings.HasPrefix(v, "go") {
		t, ok := GoToolchain(v)
		if !ok {
			return nil, parseErr("go", s, "not a Go toolchain version")
		}
		v = t
	}
	if !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	if !semver.IsValid(v) {
		return nil, parseErr("go", s, "not a semantic version")
	}
	return goVersion{raw: s, canon: v}, nil
}

func (a goVersion) Compare(o Version) int { return semver.Compare(a.canon, o.(goVersion).canon) }

func (a goVersion) String() string { return a.raw }

// GoToolchain converts a Go toolchain version as debug/buildinfo reports
// it ("go1.21.3", "go1.21rc2", "go1.9", "go1.22.1 X:boringcrypto") to the
// semantic version the Go vulnerability database uses ("1.21.3",
// "1.21.0-rc.2", "1.9.0"). It reports false for anything else, such as a
// development build.
func GoToolchain(v string) (string, bool) {
	v, _, _ = strings.Cut(v, " ")
	rest, ok := strings.CutPrefix(v, "go")
	if !ok {
		return "", false
	}
	// Split the numeric part from a pre-release suffix (rc, beta, alpha).
	i := 0
	for i < len(rest) && (rest[i] == '.' || (rest[i] >= '0' && rest[i] <= '9')) {
		i++
	}
	num, pre := rest[:i], rest[i:]
	parts := strings.Split(num, ".")
	if num == "" || len(parts) > 3 {
		return "", false
	}
	for _, p := range parts {
		if p == "" || (len(p) > 1 && p[0] == '0') {
			return "", false
		}
	}
	for len(parts) < 3 {
		parts = append(parts, "0")
	}
	out := strings.Join(parts, ".")
	if pre != "" {
		kind := strings.TrimRight(pre, "0123456789")
		n := pre[len(kind):]
		if (kind != "rc" && kind != "beta" && kind != "alpha") || n == "" || (len(n) > 1 && n[0] == '0') {
			return "", false
		}
		out += "-" + kind + "." + n
	}
	return out, semver.IsValid("v" + out)
}
