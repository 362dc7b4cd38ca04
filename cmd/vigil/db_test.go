package main

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const dbTestRecord = `{"id": "GO-2022-1059", "modified": "2023-01-01T00:00:00Z",
  "aliases": ["CVE-2022-32149", "GHSA-69ch-w2m2-3vjp"], "summary": "Denial of service in x/text",
  "affected": [{"package": {"ecosystem": "Go", "name": "golang.org/x/text"},
    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.3.8"}]}]}]}`

const dbTestDebian = `{"id": "DSA-5532-1", "modified": "2023-10-01T00:00:00Z", "aliases": ["CVE-2023-5363"],
  "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}]}]}]}`

func TestDBCommands(t *testing.T) {
	bin := vigilBinary(t)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "state", "vulndb.db")
	osvDir := filepath.Join(dir, "osv")
	if err := os.MkdirAll(osvDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"GO-2022-1059.json": dbTestRecord,
		"bad.json":          "{\n  \"id\": \"X\",\n  \"modified\": 5\n}",
	} {
		if err := os.WriteFile(filepath.Join(osvDir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	_, stderr, code := vigil(t, bin, "db", "status", "--db", dbPath)
	if code != 1 || !strings.Contains(stderr, "no vulnerability database at "+dbPath) {
		t.Fatalf("status before import: code %d, stderr %q", code, stderr)
	}

	stdout, stderr, code := vigil(t, bin, "db", "import", "--db", dbPath, osvDir)
	if code != 0 || !strings.Contains(stdout, "1 records from 2 files in ") ||
		!strings.Contains(stdout, ": 1 added, 0 replaced, 0 older skipped, 0 withdrawn, 1 bad") {
		t.Fatalf("import: code %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
	wantProblem := filepath.Join(osvDir, "bad.json") + ":3:15: json: cannot unmarshal number into Go struct field Record.modified of type string\n"
	if stderr != wantProblem {
		t.Errorf("import stderr %q, want %q", stderr, wantProblem)
	}

	stdout, _, code = vigil(t, bin, "db", "match", "--db", dbPath, "--ecosystem", "Go", "--name", "golang.org/x/text", "--version", "v0.3.7")
	var got struct {
		Findings    []map[string]any `json:"findings"`
		Unevaluated []any            `json:"unevaluated"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &got) != nil || len(got.Findings) != 1 || len(got.Unevaluated) != 0 {
		t.Fatalf("match: code %d, %s", code, stdout)
	}
	f := got.Findings[0]
	if f["record"] != "GO-2022-1059" || f["fixed_version"] != "0.3.8" || f["ids"].([]any)[0] != "CVE-2022-32149" {
		t.Errorf("finding %v", f)
	}

	// update from a loopback server serving a dump the test builds.
	zipPath := filepath.Join(dir, "all.zip")
	zf, err := os.Create(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(zf)
	w, err := zw.Create("DSA-5532-1.json")
	if err == nil {
		_, err = w.Write([]byte(dbTestDebian))
	}
	if err = errors.Join(err, zw.Close(), zf.Close()); err != nil {
		t.Fatalf("build the dump: %v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/Debian/all.zip" {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, zipPath)
	}))
	defer srv.Close()
	stdout, stderr, code = vigil(t, bin, "db", "update", "--db", dbPath, "--source", srv.URL, "--ecosystem", "Debian")
	if code != 0 || !strings.HasPrefix(stdout, "Debian: ") || !strings.Contains(stdout, "1 records from 1 files") {
		t.Fatalf("update: code %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}

	stdout, _, code = vigil(t, bin, "db", "status", "--db", dbPath)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "ECOSYSTEM") {
		t.Fatalf("status: code %d\n%s", code, stdout)
	}
	deb, gol := strings.Fields(lines[1]), strings.Fields(lines[2])
	if deb[0] != "Debian" || deb[1] != "1" || deb[2] != "0" || deb[len(deb)-1] == "never" ||
		gol[0] != "Go" || gol[1] != "1" || gol[len(gol)-1] != "never" {
		t.Errorf("status rows %q / %q", lines[1], lines[2])
	}

	stdout, _, code = vigil(t, bin, "db", "match", "--db", dbPath, "--ecosystem", "Debian:12", "--name", "libssl3",
		"--version", "3.0.11-1~deb12u1", "--source-name", "openssl")
	if code != 0 || !strings.Contains(stdout, `"record": "DSA-5532-1"`) || !strings.Contains(stdout, `"fixed_version": "3.0.11-1~deb12u2"`) {
		t.Errorf("match Debian: code %d\n%s", code, stdout)
	}

	// Offline: nothing listens on the port.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = vigil(t, bin, "db", "update", "--db", dbPath, "--source", "http://"+addr, "--ecosystem", "Go")
	if code != 1 || !strings.Contains(stderr, "vigil: vulndb: update Go: cannot reach http://"+addr+"/Go/all.zip (offline?") {
		t.Errorf("offline update: code %d, stderr %q", code, stderr)
	}
}
