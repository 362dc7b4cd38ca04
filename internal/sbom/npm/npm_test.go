package npm

import (
	"testing"

	"github.com/vigilsec/vigil/internal/sbom"
	"github.com/vigilsec/vigil/internal/sbom/internal/sbomtest"
)

const lockV1 = `{"name":"app","version":"1.0.0","lockfileVersion":1,"dependencies":{
  "lodash":{"version":"4.17.20"},
  "@babel/core":{"version":"7.22.0","dependencies":{"debug":{"version":"4.3.4"}}},
  "debug":{"version":"4.3.4"}}}`

const lockV2 = `{"name":"app","lockfileVersion":2,
 "packages":{"":{"name":"app","version":"1.0.0"},
  "node_modules/lodash":{"version":"4.17.20","license":"MIT"},
  "node_modules/@babel/core":{"version":"7.22.0"},
  "node_modules/@babel/core/node_modules/debug":{"version":"4.3.4","license":"MIT"},
  "packages/local":{"version":"0.0.1"},
  "node_modules/local":{"resolved":"packages/local","link":true},
  "node_modules/aliased":{"name":"real-name","version":"2.0.0"}},
 "dependencies":{"lodash":{"version":"0.0.0-ignored-when-packages-exist"}}}`

func names(ps []sbom.Package) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name+"@"+p.Version)
	}
	return out
}

func TestParseLockVersions(t *testing.T) {
	for name, c := range map[string]struct {
		in   string
		want []string
	}{
		"v1": {lockV1, []string{"@babel/core@7.22.0", "debug@4.3.4", "lodash@4.17.20"}},
		// Workspace folders (packages/local) are the project, not dependencies.
		"v2": {lockV2, []string{"@babel/core@7.22.0", "debug@4.3.4", "real-name@2.0.0", "lodash@4.17.20"}},
	} {
		t.Run(name, func(t *testing.T) {
			pkgs, err := ParseLock([]byte(c.in), "/app/package-lock.json")
			if err != nil {
				t.Fatal(err)
			}
			got := names(pkgs)
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
		})
	}
	pkgs, _ := ParseLock([]byte(lockV2), "/app/package-lock.json")
	want := sbom.Package{Name: "@babel/core", Version: "7.22.0", Ecosystem: "npm", Type: "npm", Location: "/app/package-lock.json",
		PURL: "pkg:npm/%40babel/core@7.22.0"}
	sbomtest.Equal(t, pkgs[:1], []sbom.Package{want})
}

func TestParsePackageJSON(t *testing.T) {
	p, ok, err := ParsePackageJSON([]byte(`{"name":"@s/x","version":"1.2.3","licenses":[{"type":"MIT"},"ISC"]}`), "/n/node_modules/@s/x/package.json")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	want := sbom.Package{Name: "@s/x", Version: "1.2.3", Ecosystem: "npm", Type: "npm", Location: "/n/node_modules/@s/x/package.json",
		PURL: "pkg:npm/%40s/x@1.2.3", Files: []string{"/n/node_modules/@s/x"}, Licenses: []string{"MIT", "ISC"}}
	sbomtest.Equal(t, []sbom.Package{p}, []sbom.Package{want})
	if _, ok, err := ParsePackageJSON([]byte(`{"private":true}`), "x"); ok || err != nil {
		t.Errorf("workspace root: ok=%v err=%v", ok, err)
	}
	if _, _, err := ParsePackageJSON([]byte(`{"name":`), "x"); err == nil {
		t.Error("truncated JSON accepted")
	}
}

func TestIsInstalledManifest(t *testing.T) {
	for p, want := range map[string]bool{
		"a/node_modules/x/package.json":                true,
		"a/node_modules/@s/x/package.json":             true,
		"a/node_modules/x/node_modules/y/package.json": true,
		"a/package.json":                               false,
		"a/node_modules/x/lib/package.json":            false,
		"a/node_modules/x/package.jsonx":               false,
	} {
		if got := IsInstalledManifest(p); got != want {
			t.Errorf("%s: %v", p, got)
		}
	}
}

func FuzzParseLock(f *testing.F) {
	f.Add([]byte(lockV1))
	f.Add([]byte(lockV2))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := ParseLock(b, "/p")
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("empty package %+v", p)
			}
			checkPURL(t, p)
		}
		_, _, _ = ParsePackageJSON(b, "/p") // only that it does not panic
	})
}
