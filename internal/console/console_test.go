package console_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/api"
	"github.com/vigilsec/vigil/internal/api/apitest"
	"github.com/vigilsec/vigil/internal/console"
)

// server is the API server with the console, on loopback.
func server(t *testing.T) *httptest.Server {
	env := apitest.New(t)
	srv := env.NewServer(t, api.Config{}, api.Options{Static: console.Handler()})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// rawGet sends path exactly as written, without the client cleaning it.
func rawGet(t *testing.T, ts *httptest.Server, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque = path
	resp, err := ts.Client().Transport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestStaticFiles(t *testing.T) {
	ts := server(t)
	for path, ctype := range map[string]string{
		"/":                   "text/html; charset=utf-8",
		"/index.html":         "text/html; charset=utf-8",
		"/js/app.js":          "text/javascript; charset=utf-8",
		"/js/pages/map.js":    "text/javascript; charset=utf-8",
		"/css/app.css":        "text/css; charset=utf-8",
		"/favicon.svg":        "image/svg+xml",
		"/js/../js/layout.js": "",
	} {
		resp, body := rawGet(t, ts, path)
		if ctype == "" {
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %d, want 404 for a path with ..", path, resp.StatusCode)
			}
			continue
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ctype || body == "" {
			t.Errorf("%s: %d %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if resp.Header.Get("Content-Security-Policy") != console.CSP || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", path, resp.Header)
		}
	}
	// A second fetch with the ETag is a 304.
	resp, _ := rawGet(t, ts, "/js/app.js")
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/js/app.js", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	r2, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: %d", r2.StatusCode)
	}
}

// TestPathTraversal: no way out of the console's files gets anything
// but a 404.
func TestPathTraversal(t *testing.T) {
	ts := server(t)
	for _, p := range []string{
		"/../../../../etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd", "/js/..%2f..%2f..%2fetc/passwd",
		"/..\\..\\etc\\passwd", "/..%5c..%5cetc%5cpasswd", "/js/%2e%2e/%2e%2e/go.mod", "/static/index.html",
		"/js/app.js%00.html", "/css/", "/nonexistent.js", "/.git/config", "/js//../../etc/passwd",
	} {
		resp, body := rawGet(t, ts, p)
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "root:") {
			t.Errorf("%s: %d %.80q", p, resp.StatusCode, body)
		}
	}
}

// TestNoOutsideReferences: the console loads nothing from elsewhere and
// has no inline script or style the CSP would block.
func TestNoOutsideReferences(t *testing.T) {
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/|@import|<style|style="|<script>|\son[a-z]+="|innerHTML|eval\(|new Function`)
	count := 0
	err := filepath.WalkDir("static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		count++
		for _, m := range external.FindAllString(string(data), -1) {
			if strings.HasSuffix(m, "//www.w3.org/") { // the SVG namespace, a name and not a fetch
				continue
			}
			t.Errorf("%s: %q", path, m)
		}
		return nil
	})
	if err != nil || count < 10 {
		t.Fatalf("walked %d files: %v", count, err)
	}
}
