// Package dpkg reads Debian's package database: var/lib/dpkg/status, the
// per-package files of var/lib/dpkg/status.d (distroless images), and the
// file lists in var/lib/dpkg/info.
package dpkg

import (
	"bytes"
	"errors"
	"io/fs"
	"path"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigilsec/vigil/internal/sbom"
	"github.com/vigilsec/vigil/internal/sbom/osrelease"
	"github.com/vigilsec/vigil/internal/sbom/rootfs"
)

// Locations inside a root.
const (
	StatusPath = "var/lib/dpkg/status"
	StatusDir  = "var/lib/dpkg/status.d"
	InfoDir    = "var/lib/dpkg/info"
)

// maxFile bounds a status file or a file list (a full desktop status file
// is a few MiB).
const maxFile = 64 << 20

// Scan reads the dpkg database of root. A root without one gives nothing.
func Scan(root *rootfs.FS, d sbom.Distro) ([]sbom.Package, []sbom.ScanError) {
	var pkgs []sbom.Package
	var errs []sbom.ScanError
	read := func(name string) {
		b, err := root.ReadFile(name, maxFile)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, sbom.ScanError{File: rootfs.Abs(name), Message: err.Error()})
			}
			return
		}
		entries, perrs := ParseStatus(bytes.NewReader(b))
		for _, e := range perrs {
			errs = append(errs, sbom.FileError(rootfs.Abs(name), e))
		}
		distroless := path.Dir(name) == StatusDir
		for _, e := range entries {
			if !e.Installed() {
				continue
			}
			p := toPackage(e, d, rootfs.Abs(name))
			p.Files, errs = files(root, e, distroless, name, errs)
			pkgs = append(pkgs, p)
		}
	}
	read(StatusPath)
	ents, err := root.ReadDir(StatusDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, sbom.ScanError{File: rootfs.Abs(StatusDir), Message: err.Error()})
	}
	for _, e := range ents {
		if e.Type().IsRegular() && !strings.HasSuffix(e.Name(), ".md5sums") {
			read(path.Join(StatusDir, e.Name()))
		}
	}
	return pkgs, errs
}

// files reads the package's file list: info/<pkg>:<arch>.list (multi-arch
// packages) or info/<pkg>.list; distroless images have only
// status.d/<pkg>.md5sums, with relative paths.
func files(root *rootfs.FS, e Entry, distroless bool, status string, errs []sbom.ScanError) ([]string, []sbom.ScanError) {
	var candidates []string
	if distroless {
		candidates = []string{path.Join(StatusDir, e.Package+".md5sums")}
	} else {
		if e.Architecture != "" && e.Architecture != "all" {
			candidates = append(candidates, path.Join(InfoDir, e.Package+":"+e.Architecture+".list"))
		}
		candidates = append(candidates, path.Join(InfoDir, e.Package+".list"))
	}
	for _, c := range candidates {
		b, err := root.ReadFile(c, maxFile)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, append(errs, sbom.ScanError{File: rootfs.Abs(c), Message: err.Error()})
		}
		if distroless {
			return ParseMD5Sums(b), errs
		}
		return ParseList(b), errs
	}
	return nil, errs
}

// ParseList reads a .list file: one absolute path per line. Directories
// are listed too; they are kept, as dpkg owns them.
func ParseList(b []byte) []string {
	var out []string
	sbom.EachLine(b, func(l []byte) {
		if len(l) > 0 && string(l) != "/." {
			out = append(out, string(l))
		}
	})
	return out
}

// ParseMD5Sums reads an md5sums file: "<md5>  <relative path>" lines.
func ParseMD5Sums(b []byte) []string {
	var out []string
	sbom.EachLine(b, func(l []byte) {
		_, p, ok := strings.Cut(string(l), "  ")
		if ok && p != "" {
			out = append(out, path.Join("/", p))
		}
	})
	return out
}

func toPackage(e Entry, d sbom.Distro, location string) sbom.Package {
	p := sbom.Package{
		Name:      e.Package,
		Version:   e.Version,
		Ecosystem: osrelease.Ecosystem(d),
		Type:      sbom.TypeDeb,
		Location:  location,
	}
	if e.Source != "" {
		src, srcVer := e.Source, e.SourceVersion
		if srcVer == "" {
			srcVer = e.Version // "Source: name" alone means the same version
		}
		if src != p.Name || srcVer != p.Version {
			p.SourceName, p.SourceVersion = src, srcVer
		}
	}
	ns := osrelease.PURLNamespace(d)
	if ns == "" {
		ns = "debian"
	}
	var q packageurl.Qualifiers
	if e.Architecture != "" {
		q = append(q, packageurl.Qualifier{Key: "arch", Value: e.Architecture})
	}
	if dq := osrelease.PURLDistro(d); dq != "" {
		q = append(q, packageurl.Qualifier{Key: "distro", Value: dq})
	}
	p.PURL = packageurl.NewPackageURL(packageurl.TypeDebian, ns, e.Package, e.Version, q, "").ToString()
	return p
}
