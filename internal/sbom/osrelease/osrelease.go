// Package osrelease reads os-release files and names the OSV ecosystem of
// the distribution's packages.
package osrelease

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/internal/sbom"
)

// Paths are where os-release lives inside a root file system, in the order
// systemd reads them.
var Paths = []string{"etc/os-release", "usr/lib/os-release"}

// maxLines bounds a file that is not really os-release.
const maxLines = 1000

// Parse reads an os-release file: KEY=VALUE lines, values optionally
// quoted with shell quoting. Unknown keys are ignored; a malformed line is
// an error naming it.
func Parse(r io.Reader) (sbom.Distro, error) {
	var d sbom.Distro
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		if line > maxLines {
			return d, &sbom.LineError{Line: line, Msg: "too many lines for os-release"}
		}
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		key, raw, ok := strings.Cut(text, "=")
		if !ok {
			return d, &sbom.LineError{Line: line, Msg: fmt.Sprintf("no '=' in %q", text)}
		}
		val, err := unquote(raw)
		if err != nil {
			return d, &sbom.LineError{Line: line, Msg: err.Error()}
		}
		switch key {
		case "ID":
			d.ID = strings.ToLower(val)
		case "VERSION_ID":
			d.VersionID = val
		case "VERSION_CODENAME":
			d.Codename = val
		case "PRETTY_NAME":
			d.Name = val
		}
	}
	if err := sc.Err(); err != nil {
		return d, &sbom.LineError{Line: line + 1, Msg: err.Error()}
	}
	return d, nil
}

// unquote undoes the quoting os-release allows: none, single quotes, or
// double quotes with backslash escapes.
func unquote(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	switch s[0] {
	case '\'':
		if len(s) < 2 || s[len(s)-1] != '\'' {
			return "", fmt.Errorf("unterminated quote in %q", s)
		}
		return s[1 : len(s)-1], nil
	case '"':
		if len(s) < 2 || s[len(s)-1] != '"' {
			return "", fmt.Errorf("unterminated quote in %q", s)
		}
		var b strings.Builder
		in := s[1 : len(s)-1]
		for i := 0; i < len(in); i++ {
			if in[i] == '\\' && i+1 < len(in) {
				i++
			}
			b.WriteByte(in[i])
		}
		return b.String(), nil
	}
	return s, nil
}

// Ecosystem is the OSV ecosystem of the distribution's packages, such as
// "Debian:12", "Ubuntu:22.04" or "Alpine:v3.19". A distribution OSV does
// not know gets "ID:VERSION_ID" so that matching reports it unevaluated
// rather than clean; an empty Distro gets "".
func Ecosystem(d sbom.Distro) string {
	switch d.ID {
	case "":
		return ""
	case "debian":
		return withVersion("Debian", major(d.VersionID))
	case "ubuntu":
		return withVersion("Ubuntu", d.VersionID)
	case "alpine":
		if v := majorMinor(d.VersionID); v != "" {
			return "Alpine:v" + v
		}
		return "Alpine"
	case "rhel":
		return "Red Hat"
	case "almalinux":
		return withVersion("AlmaLinux", major(d.VersionID))
	case "rocky":
		return withVersion("Rocky Linux", major(d.VersionID))
	case "opensuse-leap":
		return "openSUSE:Leap " + d.VersionID
	case "wolfi":
		return "Wolfi"
	case "chainguard":
		return "Chainguard"
	case "mageia":
		return withVersion("Mageia", d.VersionID)
	}
	return withVersion(d.ID, d.VersionID)
}

// PURLNamespace is the package-URL namespace of the distribution's
// packages ("debian", "alpine", "redhat", ...).
func PURLNamespace(d sbom.Distro) string {
	if d.ID == "rhel" {
		return "redhat"
	}
	return d.ID
}

// PURLDistro is the distro qualifier of package URLs, e.g. "debian-12".
func PURLDistro(d sbom.Distro) string {
	if d.ID == "" {
		return ""
	}
	if d.VersionID == "" {
		return d.ID
	}
	return d.ID + "-" + d.VersionID
}

func withVersion(name, v string) string {
	if v == "" {
		return name
	}
	return name + ":" + v
}

// major is the part of a version before the first dot, if numeric.
func major(v string) string {
	m, _, _ := strings.Cut(v, ".")
	if _, err := strconv.Atoi(m); err != nil {
		return v
	}
	return m
}

// majorMinor keeps the first two dot-separated parts: Alpine's advisories
// are per branch (3.19), os-release carries the point release (3.19.1).
func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}
