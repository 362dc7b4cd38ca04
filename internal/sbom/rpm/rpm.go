// Package rpm reads installed-package databases of rpm: SQLite
// (rpmdb.sqlite, rpm 4.16+), NDB (Packages.db, SUSE) and Berkeley DB hash
// (Packages, older releases), and decodes their header blobs.
//
// The served github.com/knqyf263/go-rpmdb is a 2021 snapshot that reads
// only Berkeley DB, and does so in a goroutine that panics or loops on
// corrupt pages, which no caller can recover from; so the three formats
// are read here (package rpmdb), with bounds on every offset. SQLite goes through
// modernc.org/sqlite, a pure-Go port, so the binary stays static.
package rpm

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigilsec/vigil/internal/sbom"
	"github.com/vigilsec/vigil/internal/sbom/osrelease"
	"github.com/vigilsec/vigil/internal/sbom/rpm/rpmdb"
)

// Paths are where rpm keeps its database inside a root, in the order rpm
// itself prefers them. A scan reads the first that exists: var/lib/rpm
// is often a link to usr/lib/sysimage/rpm.
var Paths = []string{
	"usr/lib/sysimage/rpm/rpmdb.sqlite",
	"var/lib/rpm/rpmdb.sqlite",
	"usr/lib/sysimage/rpm/Packages.db",
	"var/lib/rpm/Packages.db",
	"usr/lib/sysimage/rpm/Packages",
	"var/lib/rpm/Packages",
}

// ReadBlobs returns the header blobs of the database in f, whatever its
// format (told by its first bytes, not its name).
func ReadBlobs(ctx context.Context, f *os.File) ([][]byte, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var head [16]byte
	if _, err := f.ReadAt(head[:], 0); err != nil {
		return nil, fmt.Errorf("read database header: %w", err)
	}
	switch {
	case bytes.HasPrefix(head[:], []byte("SQLite format 3\x00")):
		// The driver opens by name; the fd's /proc link names exactly the
		// file we resolved inside the root.
		return readSQLite(ctx, fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
	case string(head[:4]) == "RpmP":
		return rpmdb.ReadNDB(f, st.Size())
	default:
		return rpmdb.ReadBDB(f, st.Size())
	}
}

// Packages turns header blobs into packages. A blob that does not decode
// is reported and skipped; the others are kept.
func Packages(blobs [][]byte, d sbom.Distro, location string) ([]sbom.Package, []error) {
	var pkgs []sbom.Package
	var errs []error
	for i, b := range blobs {
		h, err := rpmdb.ParseHeader(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("header %d: %w", i, err))
			continue
		}
		if h.Name == "gpg-pubkey" {
			continue // imported signing keys are stored as pseudo-packages
		}
		pkgs = append(pkgs, toPackage(h, d, location))
	}
	return pkgs, errs
}

func toPackage(h *rpmdb.Header, d sbom.Distro, location string) sbom.Package {
	evr := h.Version + "-" + h.Release
	version := evr
	if h.Epoch > 0 {
		version = strconv.Itoa(h.Epoch) + ":" + evr
	}
	p := sbom.Package{
		Name:      h.Name,
		Version:   version,
		Ecosystem: osrelease.Ecosystem(d),
		Type:      sbom.TypeRPM,
		Location:  location,
		Files:     h.Files,
	}
	if h.License != "" {
		p.Licenses = []string{h.License}
	}
	if src, srcVer, ok := ParseSourceRPM(h.SourceRPM); ok {
		if h.Epoch > 0 {
			srcVer = strconv.Itoa(h.Epoch) + ":" + srcVer
		}
		if src != p.Name || srcVer != p.Version {
			p.SourceName, p.SourceVersion = src, srcVer
		}
	}
	var q packageurl.Qualifiers
	if h.Arch != "" {
		q = append(q, packageurl.Qualifier{Key: "arch", Value: h.Arch})
	}
	if h.Epoch > 0 {
		q = append(q, packageurl.Qualifier{Key: "epoch", Value: strconv.Itoa(h.Epoch)})
	}
	if dq := osrelease.PURLDistro(d); dq != "" {
		q = append(q, packageurl.Qualifier{Key: "distro", Value: dq})
	}
	p.PURL = packageurl.NewPackageURL(packageurl.TypeRPM, osrelease.PURLNamespace(d), h.Name, evr, q, "").ToString()
	return p
}

// ParseSourceRPM splits a SOURCERPM value, "name-version-release.src.rpm",
// into the source name and "version-release".
func ParseSourceRPM(s string) (name, version string, ok bool) {
	s, found := strings.CutSuffix(s, ".src.rpm")
	if !found {
		if s, found = strings.CutSuffix(s, ".nosrc.rpm"); !found {
			return "", "", false
		}
	}
	r := strings.LastIndexByte(s, '-')
	if r <= 0 {
		return "", "", false
	}
	v := strings.LastIndexByte(s[:r], '-')
	if v <= 0 {
		return "", "", false
	}
	return s[:v], s[v+1:], true
}
