package outputs

import (
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/alert/falcocheck"
)

// falcoKeys are the top-level keys of Falco's http_output JSON, which
// falcosidekick decodes; Vigil adds context, which decoders ignore.
var falcoKeys = []string{"context", "hostname", "output", "output_fields", "priority", "rule", "source", "tags", "time"}

// webhook is a test receiver that answers 503 to its first failures
// requests and records the rest.
type webhook struct {
	t        *testing.T
	mu       sync.Mutex
	failures int
	got      []string
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" ||
		r.Header.Get("Authorization") != "Bearer s3cret" || r.Header.Get("X-Team") != "sec" {
		h.t.Errorf("request %s %v", r.Method, r.Header)
	}
	if err := falcocheck.CheckFalco(body); err != nil {
		h.t.Errorf("%v: %s", err, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		h.t.Errorf("body %v: %s", err, body)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !reflect.DeepEqual(keys, falcoKeys) || m["time"] != "2024-05-01T10:00:00.123456789Z" ||
		m["priority"] != "Warning" || m["rule"] != "Test rule" || m["source"] != "syscall" {
		h.t.Errorf("not Falco's JSON: %s", body)
	}
	if h.failures > 0 {
		h.failures--
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	h.got = append(h.got, alert.StripPrefix(m["output"].(string), "Warning"))
}

func (h *webhook) outputs() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.got...)
}

var testHeaders = map[string]string{"Authorization": "Bearer s3cret", "X-Team": "sec"}

// TestHTTPFailsThenRecovers: the receiver fails the first requests; the
// retries deliver every queued alert, in order, none lost.
func TestHTTPFailsThenRecovers(t *testing.T) {
	h := &webhook{t: t, failures: 5}
	srv := httptest.NewServer(h)
	defer srv.Close()
	s, err := NewHTTPSink(HTTPConfig{URL: srv.URL, Headers: testHeaders})
	if err != nil {
		t.Fatal(err)
	}
	q := NewQueue("http", s, fastRetry)
	for i := range 20 {
		if !q.Enqueue(testAlert(i)) {
			t.Fatal("queue full within its bound")
		}
	}
	closeQueue(t, q)
	if got := h.outputs(); !reflect.DeepEqual(got, wantSeq(20)) {
		t.Errorf("received %v", got)
	}
	if st := q.Stats(); st.Sent != 20 || st.Failed != 0 || st.Dropped != 0 || st.Retries != 5 {
		t.Errorf("stats %+v", st)
	}
}

// TestHTTPMutualTLS: a server that requires a client certificate gets the
// alerts when the config names the certificate, and refuses them when not.
func TestHTTPMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := newCert(t, dir, "ca", nil, nil)
	newCert(t, dir, "server", ca, caKey)
	newCert(t, dir, "client", ca, caKey)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	serverCert, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"))
	if err != nil {
		t.Fatal(err)
	}
	h := &webhook{t: t}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	// The refused client below makes the server log a handshake error.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()

	good := TLSConfig{CAFile: filepath.Join(dir, "ca.crt"), CertFile: filepath.Join(dir, "client.crt"), KeyFile: filepath.Join(dir, "client.key")}
	s, err := NewHTTPSink(HTTPConfig{URL: srv.URL, Headers: testHeaders, TLS: good})
	if err != nil {
		t.Fatal(err)
	}
	q := NewQueue("http", s, QueueConfig{MaxRetries: -1})
	q.Enqueue(testAlert(0))
	closeQueue(t, q)
	if got := h.outputs(); !reflect.DeepEqual(got, wantSeq(1)) {
		t.Errorf("received %v, stats %+v", got, q.Stats())
	}

	noCert, err := NewHTTPSink(HTTPConfig{URL: srv.URL, TLS: TLSConfig{CAFile: good.CAFile}})
	if err != nil {
		t.Fatal(err)
	}
	if err := noCert.Send(t.Context(), testAlert(1)); err == nil {
		t.Error("server accepted a client without a certificate")
	}
	if _, err := NewHTTPSink(HTTPConfig{URL: srv.URL, TLS: TLSConfig{CAFile: filepath.Join(dir, "missing")}}); err == nil {
		t.Error("missing CA file accepted")
	}
}

// newCert writes name.crt and name.key in dir: a CA when parent is nil,
// else a certificate for 127.0.0.1 signed by parent.
func newCert(t *testing.T, dir, name string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	signer, signerKey := tmpl, key
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	} else {
		signer, signerKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	if err := os.WriteFile(filepath.Join(dir, name+".crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}

// TestHTTPRefusedNotRetried: a 4xx other than 408 and 429 is the
// receiver refusing the alert, which no retry changes; the alert counts
// as failed at once, is logged with the start of the answer, and the
// alerts behind it are not held back. 429 and 5xx are retried.
func TestHTTPRefusedNotRetried(t *testing.T) {
	var mu sync.Mutex
	status := map[string]int{}
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a alert.Alert
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &a); err != nil {
			t.Errorf("%v: %s", err, body)
		}
		mu.Lock()
		defer mu.Unlock()
		seen[a.Output]++
		if code := status[a.Output]; code != 0 && seen[a.Output] == 1 {
			w.WriteHeader(code)
			if _, err := io.WriteString(w, "Please send a valid request body\n"); err != nil {
				t.Error(err)
			}
		}
	}))
	defer srv.Close()
	status["alert 0"] = http.StatusBadRequest
	status["alert 1"] = http.StatusTooManyRequests
	status["alert 2"] = http.StatusRequestTimeout
	status["alert 3"] = http.StatusBadGateway
	var logs bytes.Buffer
	s, err := NewHTTPSink(HTTPConfig{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	cfg := fastRetry
	cfg.Log = slog.New(slog.NewTextHandler(&logs, nil))
	q := NewQueue("http", s, cfg)
	for i := range 5 {
		q.Enqueue(testAlert(i))
	}
	closeQueue(t, q)
	if st := q.Stats(); st.Sent != 4 || st.Failed != 1 || st.Retries != 3 {
		t.Errorf("stats %+v", st)
	}
	if seen["alert 0"] != 1 || seen["alert 1"] != 2 || seen["alert 2"] != 2 || seen["alert 3"] != 2 || seen["alert 4"] != 1 {
		t.Errorf("attempts %v", seen)
	}
	if l := logs.String(); strings.Count(l, "\n") != 1 || !strings.Contains(l, "400 Bad Request") ||
		!strings.Contains(l, `Please send a valid request body`) || !strings.Contains(l, "attempts=1") {
		t.Errorf("log %q", l)
	}
}

// TestHTTPGzipEchoUserAgent: compression gzips the body (and says so),
// echo writes the server's answers to stdout, user_agent is sent.
func TestHTTPGzipEchoUserAgent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Encoding") != "gzip" || r.Header.Get("User-Agent") != "falcosecurity/falco" {
			t.Errorf("headers %v", r.Header)
		}
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			t.Errorf("not gzip: %v", err)
			return
		}
		body, _ := io.ReadAll(zr)
		if err := falcocheck.CheckFalco(body); err != nil {
			t.Errorf("%v: %s", err, body)
		}
		if _, err := io.WriteString(w, `{"status":"ok"}`); err != nil {
			t.Error(err)
		}
	}))
	defer srv.Close()
	var echo bytes.Buffer
	s, err := NewHTTPSink(HTTPConfig{URL: srv.URL, Compression: CompressionGzip, Echo: &echo, UserAgent: "falcosecurity/falco"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := s.Send(t.Context(), testAlert(i)); err != nil {
			t.Fatal(err)
		}
	}
	if echo.String() != "{\"status\":\"ok\"}\n{\"status\":\"ok\"}\n" {
		t.Errorf("echo %q", echo.String())
	}
	if _, err := NewHTTPSink(HTTPConfig{URL: srv.URL, Compression: "zstd"}); err == nil {
		t.Error("unknown compression accepted")
	}
}
