package apk

import (
	"slices"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/sbom"
)

const installed = `C:Q1abc=
P:musl
V:1.2.4-r2
A:x86_64
L:MIT
o:musl
F:lib
R:ld-musl-x86_64.so.1
R:libc.musl-x86_64.so.1

P:libcrypto3
V:3.1.4-r5
A:x86_64
L:Apache-2.0
o:openssl
F:usr/lib
R:libcrypto.so.3
F:etc/ssl
R:openssl.cnf
`

func TestParse(t *testing.T) {
	entries, errs := Parse(strings.NewReader(installed))
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if len(entries) != 2 {
		t.Fatalf("%d entries", len(entries))
	}
	musl, crypto := entries[0], entries[1]
	if musl.Name != "musl" || musl.Version != "1.2.4-r2" || musl.Origin != "musl" || musl.License != "MIT" || musl.Line != 1 ||
		!slices.Equal(musl.Files, []string{"/lib/ld-musl-x86_64.so.1", "/lib/libc.musl-x86_64.so.1"}) {
		t.Errorf("musl %+v", musl)
	}
	if crypto.Origin != "openssl" || crypto.Line != 11 || !slices.Equal(crypto.Files, []string{"/usr/lib/libcrypto.so.3", "/etc/ssl/openssl.cnf"}) {
		t.Errorf("libcrypto3 %+v", crypto)
	}
	p := toPackage(crypto, distroAlpine, "/lib/apk/db/installed")
	if p.SourceName != "openssl" || p.SourceVersion != "3.1.4-r5" || p.Ecosystem != "Alpine:v3.19" ||
		p.PURL != "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1" {
		t.Errorf("package %+v", p)
	}
	if p := toPackage(musl, distroAlpine, "x"); p.SourceName != "" {
		t.Errorf("origin equal to the name must leave SourceName empty: %+v", p)
	}
}

func TestParseReportsBadLines(t *testing.T) {
	entries, errs := Parse(strings.NewReader("P:a\nV:1\n\nP:b\nbroken\nV:2\n\nV:3\n\nP:c\nV:4\n"))
	if len(entries) != 2 || entries[0].Name != "a" || entries[1].Name != "c" {
		t.Errorf("entries %+v", entries)
	}
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	want := []string{`line 5: not a field: "broken"`, "line 8: record without P: or V:"}
	if !slices.Equal(msgs, want) {
		t.Errorf("errors %q, want %q", msgs, want)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(installed)
	f.Fuzz(func(t *testing.T, in string) {
		entries, _ := Parse(strings.NewReader(in))
		for _, e := range entries {
			if e.Name == "" || e.Version == "" {
				t.Fatalf("entry without name or version: %+v", e)
			}
		}
	})
}

var distroAlpine = sbom.Distro{ID: "alpine", VersionID: "3.19.1"}
