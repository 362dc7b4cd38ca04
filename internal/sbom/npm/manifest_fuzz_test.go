package npm

import (
	"testing"

	"github.com/package-url/packageurl-go"

	"github.com/vigilsec/vigil/internal/sbom"
)

// FuzzParsePackageJSON reads an installed package's package.json: a
// package comes out only with a name and a version, and its package URL
// names that same package and version.
func FuzzParsePackageJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		const location = "/app/node_modules/x/package.json"
		p, ok, err := ParsePackageJSON(b, location)
		if err != nil && ok {
			t.Fatalf("ok with error %v", err)
		}
		if !ok {
			return
		}
		if p.Name == "" || p.Version == "" || len(p.Files) != 1 || p.Files[0] != "/app/node_modules/x" {
			t.Fatalf("package %+v", p)
		}
		checkPURL(t, p)
	})
}

// checkPURL fails unless the package URL names the package and version.
func checkPURL(t *testing.T, p sbom.Package) {
	t.Helper()
	u, err := packageurl.FromString(p.PURL)
	if err != nil {
		t.Fatalf("purl %q: %v", p.PURL, err)
	}
	name := u.Name
	if u.Namespace != "" {
		name = u.Namespace + "/" + u.Name
	}
	if u.Type != packageurl.TypeNPM || name != p.Name || u.Version != p.Version {
		t.Errorf("purl %q reads as %s %q %q, package is %q %q", p.PURL, u.Type, name, u.Version, p.Name, p.Version)
	}
}
