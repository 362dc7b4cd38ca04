package gobinary

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/vigilsec/vigil/internal/sbom"
	"github.com/vigilsec/vigil/internal/sbom/internal/sbomtest"
)

// A binary built here from a module pinning golang.org/x/text v0.3.7
// lists the toolchain, the main module, the pinned dependency and the
// locally replaced one.
func TestReadBuiltBinary(t *testing.T) {
	path := sbomtest.GoBinary(t)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pkgs, err := Read(f, "/usr/local/bin/vigil-go-fixture")
	if err != nil {
		t.Fatal(err)
	}
	var want []sbom.Package
	for _, p := range sbomtest.Expected() {
		if p.Ecosystem == sbom.EcosystemGo {
			want = append(want, p)
		}
	}
	inv := sbom.Inventory{Packages: pkgs}
	inv.Sort()
	sbomtest.Equal(t, inv.Packages, want)
}

func TestNotGo(t *testing.T) {
	for name, b := range map[string][]byte{
		"script":      []byte("#!/bin/sh\necho\n"),
		"ELF, not Go": mustRead(t, "/bin/busybox"),
	} {
		if len(b) == 0 {
			continue
		}
		_, err := Read(bytes.NewReader(b), "/x")
		if !errors.Is(err, ErrNotGo) {
			t.Errorf("%s: err %v, want ErrNotGo", name, err)
		}
	}
}

// A file with the ELF magic that debug/elf cannot read is an error to
// report, not a quiet "not Go".
func TestBrokenELFIsAnError(t *testing.T) {
	_, err := Read(bytes.NewReader([]byte("\x7fELF\x02\x01\x01")), "/x")
	if err == nil || errors.Is(err, ErrNotGo) {
		t.Errorf("err %v", err)
	}
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Logf("skipping %s: %v", p, err)
	}
	return b
}

func TestStdlibVersion(t *testing.T) {
	for in, want := range map[string]string{
		"go1.22.3": "1.22.3", "go1.23rc1": "1.23rc1", "go1.22.0 X:boringcrypto": "1.22.0",
		"devel go1.23-abc": "", "": "", "go": "", "gccgo": "",
	} {
		if got := StdlibVersion(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte("\x7fELF\x02\x01\x01\x00"))
	f.Add([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00\x01\x00\x00\x00\xff Go buildinf:\x08\x02"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Read(bytes.NewReader(b), "/f") // only that it does not panic
	})
}
