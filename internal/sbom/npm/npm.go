// Package npm reads Node.js packages: package-lock.json files (lockfile
// versions 1, 2 and 3) and the package.json of each installed package
// under node_modules.
package npm

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigilsec/vigil/internal/sbom"
)

// lockfile is the part of package-lock.json Vigil reads. Version 1 nests
// "dependencies" by name; versions 2 and 3 have a flat "packages" map keyed
// by install path ("node_modules/a/node_modules/@s/b"; "" is the project).
type lockfile struct {
	LockfileVersion int                  `json:"lockfileVersion"`
	Packages        map[string]lockEntry `json:"packages"`
	Dependencies    map[string]lockDep   `json:"dependencies"`
}

type lockEntry struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	License any    `json:"license"`
	Link    bool   `json:"link"`
}

type lockDep struct {
	Version      string             `json:"version"`
	Dependencies map[string]lockDep `json:"dependencies"`
}

// maxDepth bounds the nesting of a version 1 lockfile.
const maxDepth = 64

// ParseLock reads a package-lock.json. location is its path inside the
// target. Packages appear once per name and version.
func ParseLock(b []byte, location string) ([]sbom.Package, error) {
	var lf lockfile
	if err := json.Unmarshal(b, &lf); err != nil {
		return nil, fmt.Errorf("decode package-lock.json: %w", err)
	}
	seen := map[string]bool{}
	var out []sbom.Package
	add := func(name, version string, licenses []string) {
		if !validName(name) || version == "" || seen[name+"@"+version] {
			return
		}
		seen[name+"@"+version] = true
		out = append(out, pkg(name, version, location, licenses))
	}
	if len(lf.Packages) > 0 {
		keys := make([]string, 0, len(lf.Packages))
		for k := range lf.Packages {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			e := lf.Packages[k]
			if k == "" || e.Link {
				continue // the project itself; links point at workspace folders
			}
			name := e.Name
			if name == "" {
				name = nameFromInstallPath(k)
			}
			add(name, e.Version, licenses(e.License))
		}
		return out, nil
	}
	var walk func(deps map[string]lockDep, depth int) error
	walk = func(deps map[string]lockDep, depth int) error {
		if depth > maxDepth {
			return fmt.Errorf("dependencies nested deeper than %d", maxDepth)
		}
		names := make([]string, 0, len(deps))
		for n := range deps {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			d := deps[n]
			add(n, d.Version, nil)
			if err := walk(d.Dependencies, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return out, walk(lf.Dependencies, 0)
}

// nameFromInstallPath is the package name at the end of an install path:
// what follows the last "node_modules/", scope included.
func nameFromInstallPath(k string) string {
	i := strings.LastIndex(k, "node_modules/")
	if i < 0 {
		return ""
	}
	return k[i+len("node_modules/"):]
}

// manifest is the part of an installed package.json Vigil reads.
type manifest struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	License any    `json:"license"`
	// Licenses is the deprecated array form.
	Licenses any `json:"licenses"`
}

// ParsePackageJSON reads the package.json of an installed package. A
// manifest without name or version (a workspace root) gives ok=false.
func ParsePackageJSON(b []byte, location string) (p sbom.Package, ok bool, err error) {
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return p, false, fmt.Errorf("decode package.json: %w", err)
	}
	if !validName(m.Name) || m.Version == "" {
		return p, false, nil
	}
	lic := licenses(m.License)
	if len(lic) == 0 {
		lic = licenses(m.Licenses)
	}
	p = pkg(m.Name, m.Version, location, lic)
	p.Files = []string{path.Dir(location)}
	return p, true, nil
}

// IsInstalledManifest reports whether a path is the package.json of a
// package installed under node_modules: node_modules/x/package.json or
// node_modules/@scope/x/package.json.
func IsInstalledManifest(p string) bool {
	if path.Base(p) != "package.json" {
		return false
	}
	dir := path.Dir(p)
	parent := path.Dir(dir)
	if path.Base(parent) == "node_modules" {
		return true
	}
	return strings.HasPrefix(path.Base(parent), "@") && path.Base(path.Dir(parent)) == "node_modules"
}

// licenses reads npm's license forms: "MIT", {"type": "MIT"}, or a list
// of either.
func licenses(v any) []string {
	switch l := v.(type) {
	case string:
		if l != "" {
			return []string{l}
		}
	case map[string]any:
		if t, ok := l["type"].(string); ok && t != "" {
			return []string{t}
		}
	case []any:
		var out []string
		for _, e := range l {
			out = append(out, licenses(e)...)
		}
		return out
	}
	return nil
}

// validName rejects names no package can have: empty, or a scope with
// nothing after it ("@scope/"), whose package URL would have no name.
func validName(name string) bool {
	scope, rest, scoped := strings.Cut(name, "/")
	return name != "" && (!strings.HasPrefix(name, "@") || !scoped || (len(scope) > 1 && rest != ""))
}

func pkg(name, version, location string, lic []string) sbom.Package {
	ns, n := "", name
	if strings.HasPrefix(name, "@") {
		if s, rest, ok := strings.Cut(name, "/"); ok {
			ns, n = s, rest
		}
	}
	return sbom.Package{
		Name: name, Version: version, Ecosystem: sbom.EcosystemNPM, Type: sbom.TypeNPM,
		Location: location, Licenses: lic,
		PURL: packageurl.NewPackageURL(packageurl.TypeNPM, ns, n, version, nil, "").ToString(),
	}
}
