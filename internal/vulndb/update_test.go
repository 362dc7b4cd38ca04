package vulndb

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestUpdateFromServer serves dumps built by the test from a loopback
// server, the way OSV lays them out.
func TestUpdateFromServer(t *testing.T) {
	dir := t.TempDir()
	goZip := filepath.Join(dir, "go.zip")
	writeZip(t, goZip, map[string]string{"GO-2022-1059": fixtureRecords["GO-2022-1059"]})
	rockyZip := filepath.Join(dir, "rocky.zip")
	writeZip(t, rockyZip, map[string]string{"RLSA-1": strings.ReplaceAll(
		strings.Replace(fixtureRecords["ALSA-2023:5209"], "ALSA-2023:5209", "RLSA-1", 1), "AlmaLinux", "Rocky Linux")})
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.EscapedPath())
		mu.Unlock()
		switch r.URL.Path {
		case "/Go/all.zip":
			http.ServeFile(w, r, goZip)
		case "/Rocky Linux/all.zip":
			http.ServeFile(w, r, rockyZip)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	db, err := Open(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	res, err := db.Update(ctx, UpdateOptions{Source: srv.URL, Ecosystems: []string{"Go", "Rocky Linux"}, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Import.Added != 1 || res[1].Import.Added != 1 || res[0].Bytes == 0 {
		t.Fatalf("results %+v", res)
	}
	if want := []string{"/Go/all.zip", "/Rocky%20Linux/all.zip"}; strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Errorf("requested %v, want %v", paths, want)
	}
	status, _ := db.Status()
	if len(status) != 2 || status[0].Ecosystem != "Go" || status[0].LastUpdate.IsZero() || status[1].Ecosystem != "Rocky Linux" || status[1].LastUpdate.IsZero() {
		t.Errorf("status %+v", status)
	}
	findings, _, err := db.Match(ctx, []Query{{Name: "golang.org/x/text", Version: "v0.3.7", Ecosystem: "Go"}})
	if err != nil || len(findings) != 1 || findings[0].Record != "GO-2022-1059" {
		t.Fatalf("findings %v %v", findings, err)
	}
	// Temporary dumps are removed.
	if left, _ := filepath.Glob(filepath.Join(dir, "vigil-osv-*")); len(left) != 0 {
		t.Errorf("left behind %v", left)
	}

	_, err = db.Update(ctx, UpdateOptions{Source: srv.URL, Ecosystems: []string{"PyPI"}})
	if err == nil || !strings.Contains(err.Error(), "vulndb: update PyPI: fetch "+srv.URL+"/PyPI/all.zip: 404 Not Found") {
		t.Fatalf("404: err = %v", err)
	}
}

// TestUpdateOffline points at a loopback port nothing listens on.
func TestUpdateOffline(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Update(context.Background(), UpdateOptions{Source: "http://" + addr, Ecosystems: []string{"Go"}})
	if err == nil || !strings.Contains(err.Error(), "vulndb: update Go: cannot reach http://"+addr+"/Go/all.zip (offline?") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(db.Path()); err != nil {
		t.Fatal(err)
	}
}
