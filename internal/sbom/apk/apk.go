// Package apk reads Alpine's installed-package database,
// lib/apk/db/installed.
package apk

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"

	"github.com/package-url/packageurl-go"

	"github.com/vigilsec/vigil/internal/sbom"
	"github.com/vigilsec/vigil/internal/sbom/osrelease"
	"github.com/vigilsec/vigil/internal/sbom/rootfs"
)

// InstalledPath is the database inside a root.
const InstalledPath = "lib/apk/db/installed"

const (
	maxFile = 64 << 20
	maxLine = 1 << 20
)

// Entry is one package record of the database.
type Entry struct {
	Name, Version, Arch, Origin, License string
	Files                                []string
	Line                                 int
}

// Parse reads the database: records of "X:value" lines separated by blank
// lines. P is the name, V the version, A the architecture, o the origin
// (source) package, L the license; F: sets the directory for the R: file
// lines that follow. A malformed line is reported with its number and
// its record dropped.
func Parse(r io.Reader) ([]Entry, []error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var (
		out  []Entry
		errs []error
		cur  Entry
		open bool
		bad  bool
		dir  string
		line int
	)
	flush := func() {
		if open && !bad {
			if cur.Name == "" || cur.Version == "" {
				errs = append(errs, &sbom.LineError{Line: cur.Line, Msg: "record without P: or V:"})
			} else {
				out = append(out, cur)
			}
		}
		cur, open, bad, dir = Entry{}, false, false, ""
	}
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" {
			flush()
			continue
		}
		if !open {
			cur.Line, open = line, true
		}
		if len(text) < 2 || text[1] != ':' {
			errs = append(errs, &sbom.LineError{Line: line, Msg: fmt.Sprintf("not a field: %q", clip(text))})
			bad = true
			continue
		}
		v := text[2:]
		switch text[0] {
		case 'P':
			cur.Name = v
		case 'V':
			cur.Version = v
		case 'A':
			cur.Arch = v
		case 'o':
			cur.Origin = v
		case 'L':
			cur.License = v
		case 'F':
			dir = v
		case 'R':
			cur.Files = append(cur.Files, path.Join("/", dir, v))
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, &sbom.LineError{Line: line + 1, Msg: err.Error()})
		return out, errs
	}
	flush()
	return out, errs
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// Scan reads the apk database of root, if it has one.
func Scan(root *rootfs.FS, d sbom.Distro) ([]sbom.Package, []sbom.ScanError) {
	abs := rootfs.Abs(InstalledPath)
	f, err := root.OpenFile(InstalledPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, []sbom.ScanError{{File: abs, Message: err.Error()}}
	}
	defer f.Close() //nolint:errcheck // read-only: closing loses nothing
	entries, perrs := Parse(io.LimitReader(f, maxFile))
	var errs []sbom.ScanError
	for _, e := range perrs {
		errs = append(errs, sbom.FileError(abs, e))
	}
	pkgs := make([]sbom.Package, 0, len(entries))
	for _, e := range entries {
		pkgs = append(pkgs, toPackage(e, d, abs))
	}
	return pkgs, errs
}

func toPackage(e Entry, d sbom.Distro, location string) sbom.Package {
	p := sbom.Package{
		Name:      e.Name,
		Version:   e.Version,
		Ecosystem: osrelease.Ecosystem(d),
		Type:      sbom.TypeAPK,
		Location:  location,
		Files:     e.Files,
	}
	if e.Origin != "" && e.Origin != e.Name {
		p.SourceName, p.SourceVersion = e.Origin, e.Version // apk origins share the version
	}
	if e.License != "" {
		p.Licenses = []string{e.License}
	}
	ns := osrelease.PURLNamespace(d)
	if ns == "" {
		ns = "alpine"
	}
	var q packageurl.Qualifiers
	if e.Arch != "" {
		q = append(q, packageurl.Qualifier{Key: "arch", Value: e.Arch})
	}
	if dq := osrelease.PURLDistro(d); dq != "" {
		q = append(q, packageurl.Qualifier{Key: "distro", Value: dq})
	}
	p.PURL = packageurl.NewPackageURL(packageurl.TypeApk, ns, e.Name, e.Version, q, "").ToString()
	return p
}
