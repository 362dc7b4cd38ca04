package rpm

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigilsec/vigil/internal/sbom"
	"github.com/vigilsec/vigil/internal/sbom/internal/sbomtest"
)

// The samples in testdata hold the same three packages in each format;
// testdata/gen.sh made them with Debian's rpm 4.18 (see it for how).
func expected(location string) []sbom.Package {
	const rhel = "distro=rhel-9.3"
	inv := sbom.Inventory{Packages: []sbom.Package{
		{Name: "vigil-hello", Version: "1.2.3-4.el9", Ecosystem: "Red Hat", Type: "rpm", Location: location,
			PURL:  "pkg:rpm/redhat/vigil-hello@1.2.3-4.el9?arch=x86_64&" + rhel,
			Files: []string{"/usr/bin/vigil-hello", "/usr/share/vigil-hello/README"}, Licenses: []string{"MIT"}},
		{Name: "vigil-tools", Version: "3:2.0-1.el9", Ecosystem: "Red Hat", Type: "rpm", Location: location,
			PURL:  "pkg:rpm/redhat/vigil-tools@2.0-1.el9?arch=x86_64&" + rhel + "&epoch=3",
			Files: []string{"/usr/bin/vigil-tools", "/usr/share/vigil-tools/README"}, Licenses: []string{"GPL-2.0-or-later AND MIT"}},
		{Name: "vigil-tools-libs", Version: "3:2.0-1.el9", Ecosystem: "Red Hat", Type: "rpm", Location: location,
			SourceName: "vigil-tools", SourceVersion: "3:2.0-1.el9",
			PURL:  "pkg:rpm/redhat/vigil-tools-libs@2.0-1.el9?arch=x86_64&" + rhel + "&epoch=3",
			Files: []string{"/usr/lib64/libvigil-tools.so.1"}, Licenses: []string{"GPL-2.0-or-later AND MIT"}},
	}}
	inv.Sort()
	return inv.Packages
}

func TestReadsEachDatabaseFormat(t *testing.T) {
	for _, name := range []string{"rpmdb.sqlite", "Packages.db", "Packages"} {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			blobs, err := ReadBlobs(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			pkgs, errs := Packages(blobs, sbom.Distro{ID: "rhel", VersionID: "9.3"}, "/var/lib/rpm/"+name)
			if len(errs) != 0 {
				t.Fatal(errs)
			}
			inv := sbom.Inventory{Packages: pkgs}
			inv.Sort()
			sbomtest.Equal(t, inv.Packages, expected("/var/lib/rpm/"+name))
		})
	}
}

func TestParseSourceRPM(t *testing.T) {
	for in, want := range map[string][2]string{
		"bash-5.1.8-6.el9.src.rpm":           {"bash", "5.1.8-6.el9"},
		"python3.11-libs-3.11.5-1.nosrc.rpm": {"python3.11-libs", "3.11.5-1"},
		"broken.src.rpm":                     {"", ""},
		"":                                   {"", ""},
	} {
		n, v, _ := ParseSourceRPM(in)
		if n != want[0] || v != want[1] {
			t.Errorf("%q: %q %q, want %q", in, n, v, want)
		}
	}
}
