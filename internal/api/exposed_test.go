package api_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/api"
	"github.com/vigilsec/vigil/internal/api/apitest"
	"github.com/vigilsec/vigil/internal/testutil"
)

// netns is a network namespace the test created, with 10.206.0.1 on a
// veth inside it, and a thread that has entered it: sockets it opens
// live in the namespace, so nothing the test sends leaves it.
type netns struct {
	reqs chan func()
}

func newNetns(t *testing.T) *netns {
	t.Helper()
	_, err := exec.LookPath("ip")
	testutil.Require(t, os.Geteuid() == 0 && err == nil, "root and iproute2 (network namespaces)")
	name := fmt.Sprintf("vigil-api-%d", os.Getpid())
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	run("netns", "add", name)
	testutil.RunOnCleanup(t, "ip", "netns", "del", name)
	run("-n", name, "link", "add", "va0", "type", "veth", "peer", "name", "va1")
	run("-n", name, "addr", "add", "10.206.0.1/24", "dev", "va0")
	run("-n", name, "link", "set", "va0", "up")
	run("-n", name, "link", "set", "va1", "up")
	run("-n", name, "link", "set", "lo", "up")
	ns := &netns{reqs: make(chan func())}
	ready := make(chan error)
	go func() {
		// Never unlocked: the thread ends with the goroutine, and no
		// other goroutine ever runs in the namespace.
		runtime.LockOSThread()
		f, err := os.Open("/run/netns/" + name)
		if err == nil {
			err = unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
			_ = f.Close() // a namespace handle: closing loses nothing
		}
		ready <- err
		if err != nil {
			return
		}
		for fn := range ns.reqs {
			fn()
		}
	}()
	if err := <-ready; err != nil {
		t.Fatalf("entering the namespace: %v", err)
	}
	t.Cleanup(func() { close(ns.reqs) })
	return ns
}

func (ns *netns) listen(addr string) (net.Listener, error) {
	var ln net.Listener
	var err error
	done := make(chan struct{})
	ns.reqs <- func() { ln, err = net.Listen("tcp", addr); close(done) }
	<-done
	return ln, err
}

func (ns *netns) dial(_ context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	var err error
	done := make(chan struct{})
	ns.reqs <- func() { c, err = net.Dial(network, addr); close(done) }
	<-done
	return c, err
}

// TestExposedListener: on an address beyond loopback the server makes
// its tokens and certificate (owner-only files), speaks TLS only, and
// every API request needs a token; a read-only token cannot change a
// mode, an admin token can.
func TestExposedListener(t *testing.T) {
	ns := newNetns(t)
	env := apitest.New(t)
	p := env.Basic()
	dir := t.TempDir()
	srv := env.NewServer(t, api.Config{Addr: "10.206.0.1:8443", DataDir: dir}, api.Options{})
	for _, f := range []string{api.AdminTokenFile, api.ReadOnlyTokenFile, api.CertFile, api.KeyFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want mode 0600", f, err, fi)
		}
	}
	ln, err := ns.listen("10.206.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.ServeListener(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()

	pem, err := os.ReadFile(filepath.Join(dir, api.CertFile))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	hc := &http.Client{Transport: &http.Transport{DialContext: ns.dial, TLSClientConfig: &tls.Config{RootCAs: roots}}}
	base := "https://" + ln.Addr().String()
	admin, _ := os.ReadFile(filepath.Join(dir, api.AdminTokenFile))
	read, _ := os.ReadFile(filepath.Join(dir, api.ReadOnlyTokenFile))
	call := func(method, path, token, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token))
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
	if st, body := call(http.MethodGet, "/api/v1/map", "", ""); st != http.StatusUnauthorized || !strings.Contains(body, `"error"`) {
		t.Errorf("no token: %d %s", st, body)
	}
	if st, _ := call(http.MethodGet, "/api/v1/whoami", "", ""); st != http.StatusUnauthorized {
		t.Errorf("whoami without a token: %d", st)
	}
	if st, body := call(http.MethodGet, "/api/v1/map", string(read), ""); st != http.StatusOK || !strings.Contains(body, p.Server.ID) {
		t.Errorf("read-only token: %d %s", st, body)
	}
	mode := "/api/v1/workloads/" + esc(p.Server.ID) + "/mode"
	if st, body := call(http.MethodPost, mode, string(read), `{"mode":"monitor"}`); st != http.StatusForbidden {
		t.Errorf("read-only token changing a mode: %d %s", st, body)
	}
	if st, body := call(http.MethodPost, mode, string(admin), `{"mode":"monitor"}`); st != http.StatusOK {
		t.Errorf("admin token: %d %s", st, body)
	}
	// Plain HTTP gets nothing from the API.
	plain := &http.Client{Transport: &http.Transport{DialContext: ns.dial}}
	req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/api/v1/map", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(read)))
	if resp, err := plain.Do(req); err == nil {
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || strings.Contains(string(data), p.Server.ID) {
			t.Errorf("plain HTTP answered: %d %s", resp.StatusCode, data)
		}
	}
}
