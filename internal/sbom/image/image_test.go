package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/sbom"
)

type tarEntry struct {
	name, body, link string
	typ              byte
	mode             int64
}

func tarOf(t testing.TB, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: e.mode, Size: int64(len(e.body))}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	// Writes to memory: gzip fails only on a failing writer.
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// saveArchive lays layers out as Docker 25+'s OCI-style docker save does.
func saveArchive(t testing.TB, layers ...[]byte) []byte {
	var names []string
	var outer []tarEntry
	for i, l := range layers {
		n := "blobs/sha256/" + strings.Repeat(string(rune('a'+i)), 64)
		names = append(names, n)
		outer = append(outer, tarEntry{name: n, body: string(l)})
	}
	cfg := "blobs/sha256/" + strings.Repeat("c", 64)
	m, _ := json.Marshal([]Manifest{{Config: cfg, RepoTags: []string{"x:1"}, Layers: names}})
	outer = append(outer, tarEntry{name: cfg, body: "{}"}, tarEntry{name: "manifest.json", body: string(m)})
	return tarOf(t, outer)
}

const statusAB = "Package: a\nVersion: 1\n\nPackage: b\nVersion: 2\n"

func TestLayersApplyInOrderWithWhiteouts(t *testing.T) {
	outside := t.TempDir()
	layer1 := tarOf(t, []tarEntry{
		{name: "etc/", typ: tar.TypeDir, mode: 0o755},
		{name: "tmp/", typ: tar.TypeDir, mode: 0o1777}, // sticky bit: os.Root takes permission bits only
		{name: "etc/os-release", body: "ID=debian\nVERSION_ID=12\n"},
		{name: "var/lib/dpkg/status", body: statusAB},
		{name: "var/lib/dpkg/status.d/gone", body: "Package: gone\nVersion: 1\n"},
		{name: "opt/old/", typ: tar.TypeDir, mode: 0o755},
		{name: "opt/old/node_modules/x/package.json", body: `{"name":"x","version":"1.0.0"}`},
		{name: "escape", typ: tar.TypeSymlink, link: outside},
		{name: "abs", typ: tar.TypeSymlink, link: "/"},
	})
	layer2 := gz(tarOf(t, []tarEntry{
		{name: "var/lib/dpkg/status.d/.wh.gone"},
		{name: "opt/old/.wh..wh..opq"},
		{name: "opt/old/node_modules/y/package.json", body: `{"name":"y","version":"2.0.0"}`},
		{name: "var/lib/dpkg/status", body: statusAB + "\nPackage: c\nVersion: 3\n"},
		{name: "../../evil", body: "x"},
		{name: "escape/planted", body: "x"},
		{name: "abs/tmp/planted", body: "x"},
		{name: "usr/bin/hard", typ: tar.TypeLink, link: "etc/os-release"},
	}))
	file := filepath.Join(t.TempDir(), "img.tar")
	if err := os.WriteFile(file, saveArchive(t, layer1, layer2), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err := ScanArchive(context.Background(), file, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range inv.Packages {
		got = append(got, p.Type+":"+p.Name+"@"+p.Version)
	}
	want := []string{"deb:a@1", "deb:b@2", "deb:c@3", "npm:y@2.0.0"}
	if !slices.Equal(got, want) {
		t.Errorf("packages %v, want %v", got, want)
	}
	wantTarget := sbom.Target{Kind: sbom.TargetImage, Name: file, ID: "sha256:" + strings.Repeat("c", 64)}
	if inv.Target != wantTarget || inv.Distro.ID != "debian" {
		t.Errorf("target %+v distro %+v", inv.Target, inv.Distro)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("a layer wrote through a symlink outside the image: %v", ents)
	}
	if _, err := os.Stat("/tmp/planted"); err == nil {
		t.Errorf("a layer wrote /tmp/planted on the host")
	}
	var problems []string
	for _, e := range inv.Errors {
		problems = append(problems, e.Message)
	}
	if len(problems) != 3 {
		t.Errorf("problems %q, want the three below", problems)
	}
	for _, p := range []string{"../../evil: path leaves the root", "/escape/planted", "/abs/tmp/planted"} {
		if !slices.ContainsFunc(problems, func(m string) bool { return strings.Contains(m, p) }) {
			t.Errorf("no problem reported for %s in %q", p, problems)
		}
	}
}

func TestBadArchivesAreErrors(t *testing.T) {
	for name, body := range map[string][]byte{
		"not a tar":          []byte("hello"),
		"no manifest":        tarOf(t, []tarEntry{{name: "x", body: "y"}}),
		"missing layer":      tarOf(t, []tarEntry{{name: "manifest.json", body: `[{"Config":"c","Layers":["nope"]}]`}}),
		"two images":         tarOf(t, []tarEntry{{name: "manifest.json", body: `[{"Layers":[]},{"Layers":[]}]`}}),
		"layer is not a tar": saveArchive(t, []byte("garbage that is not a tar archive at all, but long enough to be read as one.......................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................")),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := scanArchive(context.Background(), bytes.NewReader(body), int64(len(body)), Options{})
			if err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestImageOverTheSizeLimitStops(t *testing.T) {
	layer := tarOf(t, []tarEntry{{name: "big", body: strings.Repeat("x", 4096)}})
	a := saveArchive(t, layer)
	_, err := scanArchive(context.Background(), bytes.NewReader(a), int64(len(a)), Options{Limits: Limits{MaxBytes: 1000}})
	if err == nil || !strings.Contains(err.Error(), "over the size limit") {
		t.Fatalf("err %v", err)
	}
}

func FuzzApplyLayer(f *testing.F) {
	f.Add(tarOf(f, []tarEntry{
		{name: "etc/", typ: tar.TypeDir, mode: 0o755},
		{name: "etc/os-release", body: "ID=debian\n"},
		{name: "etc/.wh.gone"},
		{name: "opt/.wh..wh..opq"},
		{name: "l", typ: tar.TypeSymlink, link: "/"},
		{name: "l/x", body: "x"},
		{name: "h", typ: tar.TypeLink, link: "etc/os-release"},
		{name: "../up", body: "x"},
	}))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		root, err := os.OpenRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()
		a := &applier{root: root, limits: Limits{MaxBytes: 1 << 20, MaxEntries: 1000}}
		// Bad archives fail, which is fine: what matters is where they
		// write.
		_ = a.apply("l", func() io.Reader { return bytes.NewReader(b) })
		if _, err := os.Lstat(filepath.Join(filepath.Dir(dir), "up")); err == nil {
			t.Fatal("wrote outside the root")
		}
	})
}
