package scan

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/sbom"
	"github.com/vigilsec/vigil/internal/sbom/internal/sbomtest"
	"github.com/vigilsec/vigil/internal/testutil"
)

func TestScanRootFSFindsEveryKind(t *testing.T) {
	dir := t.TempDir()
	want := sbomtest.RootFS(t, dir, false)
	var last Progress
	inv, err := Scan(context.Background(), dir, Options{Progress: func(p Progress) { last = p }})
	if err != nil {
		t.Fatal(err)
	}
	sbomtest.Equal(t, inv.Packages, want)
	if len(inv.Errors) != 0 {
		t.Errorf("errors: %+v", inv.Errors)
	}
	wantDistro := sbom.Distro{ID: "debian", VersionID: "12", Codename: "bookworm", Name: "Debian GNU/Linux 12 (bookworm)"}
	if inv.Distro != wantDistro {
		t.Errorf("distro %+v, want %+v", inv.Distro, wantDistro)
	}
	if inv.Target != (sbom.Target{Kind: sbom.TargetRootFS, Name: dir}) {
		t.Errorf("target %+v", inv.Target)
	}
	if !last.Done || last.Packages != len(want) || last.Files < 40 {
		t.Errorf("final progress %+v", last)
	}
}

// An absolute symlink inside the root names a file of the root, as it
// would for a process chrooted there, not the scanning host's file.
func TestScanResolvesSymlinksInsideTheRoot(t *testing.T) {
	dir := t.TempDir()
	sbomtest.WriteFile(t, dir, "usr/lib/os-release", []byte("ID=alpine\nVERSION_ID=3.19.1\n"), 0o644)
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The host has its own /etc/os-release (Debian here); the link must
	// not reach it.
	if err := os.Symlink("/usr/lib/os-release", filepath.Join(dir, "etc/os-release")); err != nil {
		t.Fatal(err)
	}
	sbomtest.WriteFile(t, dir, "lib/apk/db/installed", []byte("P:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\nF:lib\nR:ld-musl-x86_64.so.1\n\n"), 0o644)
	// A dpkg database reached only through a link to the host's / must
	// not be read.
	if err := os.Symlink("/var", filepath.Join(dir, "var")); err != nil {
		t.Fatal(err)
	}
	inv, err := Scan(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Distro.ID != "alpine" || inv.Distro.VersionID != "3.19.1" {
		t.Fatalf("distro %+v: the link was not resolved inside the root", inv.Distro)
	}
	want := []sbom.Package{{Name: "musl", Version: "1.2.4-r2", Ecosystem: "Alpine:v3.19", Type: "apk",
		PURL: "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1", Location: "/lib/apk/db/installed",
		Files: []string{"/lib/ld-musl-x86_64.so.1"}, Licenses: []string{"MIT"}}}
	sbomtest.Equal(t, inv.Packages, want)
}

func TestScanReportsBadFilesWithTheirLine(t *testing.T) {
	dir := t.TempDir()
	sbomtest.WriteFile(t, dir, "var/lib/dpkg/status", []byte("Package: a\nVersion: 1\n\nPackage b\nVersion: 2\n\nPackage: c\nVersion: 3\n"), 0o644)
	sbomtest.WriteFile(t, dir, "app/package-lock.json", []byte(`{"lockfileVersion": 3, "packages": [`), 0o644)
	inv, err := Scan(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range inv.Packages {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"a", "c"}) {
		t.Errorf("packages %v, want [a c]", names)
	}
	want := []sbom.ScanError{
		{File: "/app/package-lock.json", Message: "decode package-lock.json: unexpected end of JSON input"},
		{File: "/var/lib/dpkg/status:4", Message: `not a field: "Package b"`},
	}
	if !slices.Equal(inv.Errors, want) {
		t.Errorf("errors %+v\nwant %+v", inv.Errors, want)
	}
}

func TestScanStopsAtMaxFilesAndSaysSo(t *testing.T) {
	dir := t.TempDir()
	for i := range 20 {
		sbomtest.WriteFile(t, dir, filepath.Join("d", strings.Repeat("x", i+1)), []byte("x"), 0o644)
	}
	inv, err := Scan(context.Background(), dir, Options{MaxFiles: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Errors) != 1 || !strings.Contains(inv.Errors[0].Message, "walk stopped after 10 entries") {
		t.Errorf("errors %+v", inv.Errors)
	}
}

func TestScanCancelled(t *testing.T) {
	dir := t.TempDir()
	for i := range 3000 {
		sbomtest.WriteFile(t, dir, filepath.Join("d", strings.Repeat("y", 1+i%200), string(rune('a'+i%26))+strings.Repeat("z", i/26)), nil, 0o644)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Scan(ctx, dir, Options{}); err != context.Canceled {
		t.Errorf("err %v, want context.Canceled", err)
	}
}

// The host scan of this machine (Debian) finds dpkg packages with their
// files.
func TestHostFindsDpkgPackagesWithFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("walks the whole host")
	}
	_, err := os.Stat("/var/lib/dpkg/status")
	testutil.Require(t, err == nil, "a Debian host (/var/lib/dpkg/status)")
	inv, err := Host(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Target.Kind != sbom.TargetHost || inv.Distro.ID != "debian" {
		t.Errorf("target %+v distro %+v", inv.Target, inv.Distro)
	}
	var bash *sbom.Package
	for i, p := range inv.Packages {
		if p.Type == sbom.TypeDeb && p.Name == "bash" {
			bash = &inv.Packages[i]
		}
	}
	if bash == nil {
		t.Fatal("bash not found")
	}
	if !slices.Contains(bash.Files, "/bin/bash") || bash.Location != "/var/lib/dpkg/status" ||
		bash.Ecosystem != "Debian:"+inv.Distro.VersionID || !strings.HasPrefix(bash.PURL, "pkg:deb/debian/bash@") {
		t.Errorf("bash: %+v", *bash)
	}
}
