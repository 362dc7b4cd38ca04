// Package gobinary lists the modules compiled into Go executables, from
// the build information the Go linker embeds (debug/buildinfo).
package gobinary

import (
	"bytes"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigilsec/vigil/internal/sbom"
)

// ErrNotGo means the file is an executable without Go build information.
var ErrNotGo = errors.New("not a Go executable")

var elfMagic = []byte("\x7fELF")

// IsELF reports whether the first bytes of a file are the ELF magic, the
// cheap check made before handing a file to debug/buildinfo.
func IsELF(head []byte) bool { return bytes.HasPrefix(head, elfMagic) }

// Read returns the packages of one Go executable: the Go standard library
// at the toolchain's version, the main module, and each dependency (its
// replacement, when replaced, since that is the code that was built).
// location is the binary's path inside the target.
func Read(r io.ReaderAt, location string) ([]sbom.Package, error) {
	var head [4]byte
	if _, err := r.ReadAt(head[:], 0); err != nil || !IsELF(head[:]) {
		return nil, ErrNotGo
	}
	bi, err := readBuildInfo(r)
	if err != nil {
		if strings.Contains(err.Error(), "not a Go executable") {
			return nil, ErrNotGo
		}
		return nil, err
	}
	files := []string{location}
	mk := func(typ, name, version string) sbom.Package {
		return sbom.Package{
			Name: name, Version: version, Ecosystem: sbom.EcosystemGo, Type: typ,
			Location: location, Files: files,
			PURL: purl(name, version),
		}
	}
	var pkgs []sbom.Package
	if v := StdlibVersion(bi.GoVersion); v != "" {
		pkgs = append(pkgs, mk(sbom.TypeGoStdlib, "stdlib", v))
	}
	if bi.Main.Path != "" {
		pkgs = append(pkgs, mk(sbom.TypeGoModule, bi.Main.Path, bi.Main.Version))
	}
	for _, d := range bi.Deps {
		name, version := d.Path, d.Version
		if r := d.Replace; r != nil {
			if r.Version != "" && r.Version != "(devel)" {
				name, version = r.Path, r.Version
			} else {
				version = "(devel)" // replaced by a local folder: no version to match
			}
		}
		if name == "" {
			continue
		}
		pkgs = append(pkgs, mk(sbom.TypeGoModule, name, version))
	}
	return pkgs, nil
}

// readBuildInfo wraps debug/buildinfo, which has panicked on crafted
// executables in past Go releases: a hostile image must cost an error,
// not the scan.
func readBuildInfo(r io.ReaderAt) (bi *buildinfo.BuildInfo, err error) {
	defer func() {
		if p := recover(); p != nil {
			bi, err = nil, fmt.Errorf("corrupt Go build information: %v", p)
		}
	}()
	return buildinfo.Read(r)
}

// StdlibVersion turns the toolchain version a binary records ("go1.22.3",
// "go1.23rc1", "go1.22.0 X:boringcrypto") into the version OSV's Go
// database uses for the standard library ("1.22.3"); "" for a devel build.
func StdlibVersion(goVersion string) string {
	f := strings.Fields(goVersion)
	if len(f) == 0 {
		return ""
	}
	v, ok := strings.CutPrefix(f[0], "go")
	if !ok || v == "" || strings.HasPrefix(v, "devel") {
		return ""
	}
	return v
}

func purl(name, version string) string {
	ns, n := "", name
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		ns, n = name[:i], name[i+1:]
	}
	if version == "(devel)" {
		version = ""
	}
	return packageurl.NewPackageURL(packageurl.TypeGolang, ns, n, version, nil, "").ToString()
}
