// Package java lists the Maven artifacts inside Java archives (jar, war,
// ear): each META-INF/maven/<group>/<artifact>/pom.properties, in the
// archive and in the archives it nests one level down (Spring Boot's
// BOOT-INF/lib, WEB-INF/lib), falling back to META-INF/MANIFEST.MF.
package java

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigilsec/vigil/internal/sbom"
)

// Limits against hostile archives: metadata files are tiny; nested
// archives are read into memory, so both their size and count are capped.
const (
	maxMeta      = 1 << 20
	maxNested    = 64 << 20
	maxNestedCnt = 512
)

// IsArchive reports whether a file name is a Java archive by extension.
func IsArchive(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".jar", ".war", ".ear", ".jpi", ".hpi":
		return true
	}
	return false
}

// Read returns the artifacts in the archive r of the given size, located
// at location inside the target. Problems with nested archives are
// returned beside the packages found elsewhere.
func Read(r io.ReaderAt, size int64, location string) ([]sbom.Package, []error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, []error{fmt.Errorf("open archive: %w", err)}
	}
	nested := 0
	return readZip(zr, location, location, true, &nested)
}

func readZip(zr *zip.Reader, location, outer string, descend bool, nested *int) ([]sbom.Package, []error) {
	var pkgs []sbom.Package
	var errs []error
	var manifest *zip.File
	for _, f := range zr.File {
		switch {
		case isPomProperties(f.Name):
			b, err := readEntry(f, maxMeta)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", f.Name, err))
				continue
			}
			props := parseProperties(b)
			if props["artifactId"] == "" || props["version"] == "" {
				continue
			}
			pkgs = append(pkgs, pkg(props["groupId"], props["artifactId"], props["version"], location, outer))
		case strings.EqualFold(f.Name, "META-INF/MANIFEST.MF"):
			manifest = f
		case descend && IsArchive(f.Name) && !f.FileInfo().IsDir():
			if *nested >= maxNestedCnt {
				errs = append(errs, fmt.Errorf("more than %d nested archives; the rest are skipped", maxNestedCnt))
				descend = false
				continue
			}
			*nested++
			b, err := readEntry(f, maxNested)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", f.Name, err))
				continue
			}
			inner, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: open nested archive: %w", f.Name, err))
				continue
			}
			p, e := readZip(inner, location+"!/"+f.Name, outer, false, nested)
			pkgs = append(pkgs, p...)
			errs = append(errs, e...)
		}
	}
	if len(pkgs) == 0 && manifest != nil {
		if p, ok, err := fromManifest(manifest, location, outer); err != nil {
			errs = append(errs, err)
		} else if ok {
			pkgs = append(pkgs, p)
		}
	}
	return pkgs, errs
}

// isPomProperties matches META-INF/maven/<group>/<artifact>/pom.properties.
func isPomProperties(name string) bool {
	parts := strings.Split(name, "/")
	return len(parts) == 5 && parts[0] == "META-INF" && parts[1] == "maven" && parts[4] == "pom.properties"
}

func readEntry(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("%d bytes uncompressed is over the %d-byte limit", f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = fmt.Errorf("over the %d-byte limit", limit)
	}
	return b, err
}

// parseProperties reads the key=value (or key: value) lines of a Java
// properties file, skipping comments. Escapes are not undone: Maven writes
// none in the three keys read here.
func parseProperties(b []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' || l[0] == '!' {
			continue
		}
		i := strings.IndexAny(l, "=:")
		if i < 0 {
			continue
		}
		out[strings.TrimSpace(l[:i])] = strings.TrimSpace(l[i+1:])
	}
	return out
}

// ParseManifest reads MANIFEST.MF main attributes: "Name: value" lines,
// continued by lines starting with one space, up to the first blank line.
func ParseManifest(b []byte) map[string]string {
	out := map[string]string{}
	var last string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		if l == "" {
			break
		}
		if l[0] == ' ' {
			if last != "" {
				out[last] += l[1:]
			}
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		last = strings.TrimSpace(k)
		out[last] = strings.TrimSpace(v)
	}
	return out
}

var versionedName = regexp.MustCompile(`^(.+?)-(\d[\w.\-+]*)$`)

// fromManifest names an archive without pom.properties from its file name
// and manifest: the artifact from the name, the version from the manifest
// or else the name, the group from Implementation-Vendor-Id if present.
func fromManifest(f *zip.File, location, outer string) (sbom.Package, bool, error) {
	b, err := readEntry(f, maxMeta)
	if err != nil {
		return sbom.Package{}, false, fmt.Errorf("%s: %w", f.Name, err)
	}
	m := ParseManifest(b)
	base := strings.TrimSuffix(path.Base(location), path.Ext(location))
	artifact, fileVersion := base, ""
	if g := versionedName.FindStringSubmatch(base); g != nil {
		artifact, fileVersion = g[1], g[2]
	}
	version := firstOf(m["Implementation-Version"], m["Bundle-Version"], m["Specification-Version"], fileVersion)
	if version == "" || artifact == "" {
		return sbom.Package{}, false, nil
	}
	return pkg(m["Implementation-Vendor-Id"], artifact, version, location, outer), true, nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// pkg builds an artifact entry. Maven's OSV names are "group:artifact";
// the archive on disk (outer) is the file the runtime opens.
func pkg(group, artifact, version, location, outer string) sbom.Package {
	name := artifact
	if group != "" {
		name = group + ":" + artifact
	}
	return sbom.Package{
		Name: name, Version: version, Ecosystem: sbom.EcosystemMaven, Type: sbom.TypeJava,
		Location: location, Files: []string{outer},
		PURL: packageurl.NewPackageURL(packageurl.TypeMaven, group, artifact, version, nil, "").ToString(),
	}
}
