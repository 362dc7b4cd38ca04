// Package python reads installed Python distributions: *.dist-info/METADATA
// (wheels, with RECORD listing the files) and *.egg-info/PKG-INFO (eggs,
// with installed-files.txt).
package python

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigilsec/vigil/internal/sbom"
)

// Metadata is the part of a core-metadata file Vigil reads.
type Metadata struct {
	Name, Version string
	Licenses      []string
}

const maxLine = 1 << 20

// ParseMetadata reads the header section of a METADATA or PKG-INFO file
// (email-style "Key: value" lines, ending at the first blank line, where
// the description body starts). Name and Version are required.
func ParseMetadata(r io.Reader) (Metadata, error) {
	var m Metadata
	var license, expr string
	var classifiers []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" {
			break
		}
		if text[0] == ' ' || text[0] == '\t' {
			continue // continuation of a multi-line field (License text)
		}
		k, v, ok := strings.Cut(text, ":")
		if !ok {
			return m, &sbom.LineError{Line: line, Msg: fmt.Sprintf("not a field: %q", clip(text))}
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(k) {
		case "name":
			m.Name = v
		case "version":
			m.Version = v
		case "license":
			license = v
		case "license-expression":
			expr = v
		case "classifier":
			if l, ok := strings.CutPrefix(v, "License :: "); ok {
				parts := strings.Split(l, " :: ")
				classifiers = append(classifiers, parts[len(parts)-1])
			}
		}
	}
	if err := sc.Err(); err != nil {
		return m, &sbom.LineError{Line: line + 1, Msg: err.Error()}
	}
	if m.Name == "" || m.Version == "" {
		return m, errors.New("metadata has no Name or Version")
	}
	switch {
	case expr != "":
		m.Licenses = []string{expr}
	case license != "" && license != "UNKNOWN" && len(license) < 200: // long ones are the whole license text
		m.Licenses = []string{license}
	default:
		m.Licenses = classifiers
	}
	return m, nil
}

// ParseRecord reads a wheel's RECORD (CSV: path, hash, size) and returns
// the absolute paths, resolved against the directory holding the
// .dist-info (site-packages), since RECORD paths are relative to it.
func ParseRecord(b []byte, sitePackages string) ([]string, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	var out []string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return out, &sbom.LineError{Line: pe.Line, Msg: pe.Err.Error()}
			}
			return out, err
		}
		if len(rec) > 0 && rec[0] != "" {
			out = append(out, join(sitePackages, rec[0]))
		}
	}
}

// ParseInstalledFiles reads an egg's installed-files.txt: paths relative
// to the .egg-info directory, one a line.
func ParseInstalledFiles(b []byte, eggInfo string) []string {
	var out []string
	sbom.EachLine(b, func(line []byte) {
		if l := strings.TrimSpace(string(line)); l != "" {
			out = append(out, join(eggInfo, l))
		}
	})
	return out
}

func join(dir, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(dir, p)
}

// Package builds the inventory entry for a distribution.
func Package(m Metadata, location string, files []string) sbom.Package {
	return sbom.Package{
		Name: m.Name, Version: m.Version, Ecosystem: sbom.EcosystemPyPI, Type: sbom.TypePython,
		Location: location, Files: files, Licenses: m.Licenses,
		PURL: packageurl.NewPackageURL(packageurl.TypePyPi, "", Normalize(m.Name), m.Version, nil, "").ToString(),
	}
}

var separators = regexp.MustCompile(`[-_.]+`)

// Normalize is the PEP 503 form of a project name, which package URLs
// and the PyPI index use.
func Normalize(name string) string {
	return strings.ToLower(separators.ReplaceAllString(name, "-"))
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
