package dpkg

import (
	"slices"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/sbom"
	"github.com/vigilsec/vigil/internal/sbom/internal/sbomtest"
	"github.com/vigilsec/vigil/internal/sbom/rootfs"
)

func TestParseStatus(t *testing.T) {
	entries, errs := ParseStatus(strings.NewReader(sbomtest.DebianStatus))
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	want := []Entry{
		{Package: "bash", Version: "5.2.15-2+b8", Architecture: "amd64", Status: "install ok installed", Source: "bash", SourceVersion: "5.2.15-2", Line: 1},
		{Package: "libvigil1", Version: "1:2.0~rc1-3", Architecture: "amd64", Status: "install ok installed", Source: "vigil-lib", Line: 10},
		{Package: "oldpkg", Version: "0.9-1", Architecture: "all", Status: "deinstall ok config-files", Line: 17},
	}
	if !slices.Equal(entries, want) {
		t.Errorf("got %+v\nwant %+v", entries, want)
	}
	if !entries[0].Installed() || entries[2].Installed() {
		t.Error("Installed() wrong")
	}
}

func TestParseStatusReportsAndSkipsBadStanzas(t *testing.T) {
	in := "Package: a\nVersion: 1\n\n continuation first\nPackage: b\nVersion: 2\n\nPackage: c\nSource: x (1\nVersion: 3\n\nVersion: 4\n\nPackage: d\n\nPackage: e\nVersion: 5\n"
	entries, errs := ParseStatus(strings.NewReader(in))
	var names []string
	for _, e := range entries {
		names = append(names, e.Package)
	}
	if !slices.Equal(names, []string{"a", "e"}) {
		t.Errorf("kept %v", names)
	}
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	want := []string{
		"line 4: continuation line outside a field",
		`line 9: bad Source field "x (1"`,
		"line 12: stanza has no Package field",
		"line 14: package d has no Version field",
	}
	if !slices.Equal(msgs, want) {
		t.Errorf("errors %q\nwant %q", msgs, want)
	}
}

func TestScanReadsListsAndDistrolessFiles(t *testing.T) {
	dir := t.TempDir()
	sbomtest.RootFS(t, dir, false)
	root, err := rootfs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	pkgs, errs := Scan(root, sbom.Distro{ID: "debian", VersionID: "12"})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	var want []sbom.Package
	for _, p := range sbomtest.Expected() {
		if p.Type == sbom.TypeDeb {
			want = append(want, p)
		}
	}
	inv := sbom.Inventory{Packages: pkgs}
	inv.Sort()
	sbomtest.Equal(t, inv.Packages, want)
}

func FuzzParseStatus(f *testing.F) {
	f.Add(sbomtest.DebianStatus)
	f.Fuzz(func(t *testing.T, in string) {
		entries, _ := ParseStatus(strings.NewReader(in))
		for _, e := range entries {
			if e.Package == "" || e.Version == "" {
				t.Fatalf("entry without name or version: %+v", e)
			}
		}
	})
}
