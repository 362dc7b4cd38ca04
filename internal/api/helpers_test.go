package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/api"
	"github.com/vigilsec/vigil/internal/api/apitest"
)

// node is a test node with its API server on a loopback httptest server.
type node struct {
	t     *testing.T
	env   *apitest.Env
	srv   *api.Server
	ts    *httptest.Server
	dir   string
	admin string
	read  string
}

func newNode(t *testing.T, mutate func(*api.Config)) *node {
	t.Helper()
	env := apitest.New(t)
	cfg := api.Config{DataDir: t.TempDir()}
	if mutate != nil {
		mutate(&cfg)
	}
	srv := env.NewServer(t, cfg, api.Options{Hostname: "node-1"})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	n := &node{t: t, env: env, srv: srv, ts: ts, dir: cfg.DataDir}
	n.admin = readToken(t, filepath.Join(cfg.DataDir, api.AdminTokenFile))
	n.read = readToken(t, filepath.Join(cfg.DataDir, api.ReadOnlyTokenFile))
	return n
}

func readToken(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: mode %v, want 0600", path, fi.Mode().Perm())
	}
	return strings.TrimSpace(string(data))
}

// do sends a request with token (none when "") and decodes a JSON reply
// into out when out is not nil. It returns the status and the body.
func (n *node) do(method, path, token, body string, out any) (int, string) {
	n.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, n.ts.URL+path, rd)
	if err != nil {
		n.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := n.ts.Client().Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if strings.HasPrefix(path, "/api/") && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") &&
		resp.StatusCode != http.StatusOK {
		n.t.Errorf("%s %s: %d with Content-Type %q", method, path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, out); err != nil {
			n.t.Fatalf("%s %s: %v\n%s", method, path, err, data)
		}
	}
	return resp.StatusCode, string(data)
}

func (n *node) get(path string, out any) {
	n.t.Helper()
	if st, body := n.do(http.MethodGet, path, "", "", out); st != http.StatusOK {
		n.t.Fatalf("GET %s: %d %s", path, st, body)
	}
}

// apiError decodes an error body.
func apiError(t *testing.T, body string) api.Error {
	t.Helper()
	var e api.Error
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Message == "" {
		t.Fatalf("not a JSON error: %q", body)
	}
	return e
}

func esc(id string) string { return url.PathEscape(id) }
