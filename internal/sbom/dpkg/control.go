package dpkg

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/vigilsec/vigil/internal/sbom"
)

// Entry is one package stanza of a dpkg status file.
type Entry struct {
	Package, Version, Architecture, Status string
	// Source and SourceVersion come from "Source: name (version)"; both
	// are empty when the stanza has no Source field.
	Source, SourceVersion string
	// Line is where the stanza starts, for error messages.
	Line int
}

// Installed reports whether dpkg considers the package installed. A
// stanza without Status (distroless status.d files) counts as installed.
func (e *Entry) Installed() bool {
	if e.Status == "" {
		return true
	}
	f := strings.Fields(e.Status)
	return len(f) == 3 && (f[2] == "installed" || f[2] == "half-configured" || f[2] == "triggers-awaited" || f[2] == "triggers-pending")
}

// maxLine bounds one line; long Description fields stay far below it.
const maxLine = 1 << 20

// ParseStatus reads the stanzas of a dpkg status file (RFC 822-like
// fields, continuation lines start with a space or tab, stanzas end at a
// blank line). A malformed line or stanza is reported with its line and
// skipped; parsing goes on with the next stanza.
func ParseStatus(r io.Reader) ([]Entry, []error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var (
		out   []Entry
		errs  []error
		cur   Entry
		open  bool // cur has fields
		bad   bool // cur had a bad line: drop it
		field string
		line  int
	)
	flush := func() {
		if open && !bad {
			switch {
			case cur.Package == "":
				errs = append(errs, &sbom.LineError{Line: cur.Line, Msg: "stanza has no Package field"})
			case cur.Version == "":
				errs = append(errs, &sbom.LineError{Line: cur.Line, Msg: fmt.Sprintf("package %s has no Version field", cur.Package)})
			default:
				out = append(out, cur)
			}
		}
		cur, open, bad, field = Entry{}, false, false, ""
	}
	for sc.Scan() {
		line++
		text := sc.Text()
		if strings.TrimSpace(text) == "" {
			flush()
			continue
		}
		if !open {
			cur.Line, open = line, true
		}
		if text[0] == ' ' || text[0] == '\t' {
			if field == "" {
				errs = append(errs, &sbom.LineError{Line: line, Msg: "continuation line outside a field"})
				bad = true
			}
			continue // only multi-line fields continue; none of ours do
		}
		name, value, ok := strings.Cut(text, ":")
		if !ok || name == "" {
			errs = append(errs, &sbom.LineError{Line: line, Msg: fmt.Sprintf("not a field: %q", clip(text))})
			bad = true
			continue
		}
		field = name
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "package":
			cur.Package = value
		case "version":
			cur.Version = value
		case "architecture":
			cur.Architecture = value
		case "status":
			cur.Status = value
		case "source":
			src, ver, err := parseSource(value)
			if err != nil {
				errs = append(errs, &sbom.LineError{Line: line, Msg: err.Error()})
				bad = true
			}
			cur.Source, cur.SourceVersion = src, ver
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, &sbom.LineError{Line: line + 1, Msg: err.Error()})
		return out, errs
	}
	flush()
	return out, errs
}

// parseSource splits "name" or "name (version)".
func parseSource(v string) (name, version string, err error) {
	name, rest, has := strings.Cut(v, " ")
	if !has {
		return name, "", nil
	}
	rest = strings.TrimSpace(rest)
	if len(rest) < 3 || rest[0] != '(' || rest[len(rest)-1] != ')' {
		return "", "", fmt.Errorf("bad Source field %q", clip(v))
	}
	return name, strings.TrimSpace(rest[1 : len(rest)-1]), nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
