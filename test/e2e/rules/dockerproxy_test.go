package rules_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

// dockerProxy serves the Docker Engine API on a socket of its own by
// passing every request to the real engine, event stream included,
// except that the inspection of a container whose name a test
// registered says HostConfig.Privileged: true. --privileged cannot start
// here (runc cannot apply capabilities outside the machine's bounding
// set), so this is how a container whose runtime reports it privileged
// reaches the agent, through the API the agent reads in production.
type dockerProxy struct {
	socket string

	mu         sync.Mutex
	privileged map[string]int // container name -> inspections rewritten
}

var proxy struct {
	once sync.Once
	p    *dockerProxy
	err  error
}

// inspectPath is GET /containers/{id}/json, with or without an API
// version prefix.
var inspectPath = regexp.MustCompile(`^(/v[0-9.]+)?/containers/[^/]+/json$`)

// startDockerProxy starts the suite's proxy the first time it is asked.
func startDockerProxy(t *testing.T) *dockerProxy {
	t.Helper()
	testutil.RequireDocker(t)
	proxy.once.Do(func() {
		p := &dockerProxy{socket: filepath.Join(workDir(t), "docker-proxy.sock"), privileged: map[string]int{}}
		ln, err := net.Listen("unix", p.socket)
		if err != nil {
			proxy.err = err
			return
		}
		var dialer net.Dialer
		rp := &httputil.ReverseProxy{
			Rewrite: func(r *httputil.ProxyRequest) {
				r.Out.URL.Scheme, r.Out.URL.Host = "http", "docker"
			},
			Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, "unix", testutil.DockerSocket)
			}},
			FlushInterval:  -1, // the event stream must not wait in a buffer
			ModifyResponse: p.modify,
		}
		srv := &http.Server{Handler: rp}
		go func() {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				fmt.Fprintln(os.Stderr, "docker proxy:", err)
			}
		}()
		atExit(func() {
			if err := srv.Close(); err != nil {
				fmt.Fprintln(os.Stderr, "cleanup: docker proxy:", err)
			}
		})
		proxy.p = p
	})
	if proxy.err != nil {
		t.Fatal(proxy.err)
	}
	return proxy.p
}

// reportPrivileged makes the proxy report the container named name as
// privileged, from its creation on.
func (p *dockerProxy) reportPrivileged(name string) {
	p.mu.Lock()
	p.privileged[name] = 0
	p.mu.Unlock()
}

// rewritten returns how many inspections of name the proxy rewrote.
func (p *dockerProxy) rewritten(name string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.privileged[name]
}

func (p *dockerProxy) modify(resp *http.Response) error {
	if resp.Request.Method != http.MethodGet || resp.StatusCode != http.StatusOK || !inspectPath.MatchString(resp.Request.URL.Path) {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var doc map[string]any
	if json.Unmarshal(body, &doc) == nil {
		name, _ := doc["Name"].(string)
		name = strings.TrimPrefix(name, "/")
		p.mu.Lock()
		n, ok := p.privileged[name]
		if hc, isMap := doc["HostConfig"].(map[string]any); ok && isMap {
			hc["Privileged"] = true
			p.privileged[name] = n + 1
			body, _ = json.Marshal(doc)
		}
		p.mu.Unlock()
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength, resp.TransferEncoding = int64(len(body)), nil
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}
