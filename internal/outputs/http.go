package outputs

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
)

// TLSConfig is client TLS for outputs that reach servers over TLS.
type TLSConfig struct {
	// Enabled asks for TLS with the system roots when nothing else below
	// is set.
	Enabled bool
	// CAFile verifies the server; empty means the system roots.
	CAFile string
	// CertFile and KeyFile are the client certificate for mutual TLS.
	CertFile, KeyFile string
	// InsecureSkipVerify accepts any server certificate: for tests only.
	InsecureSkipVerify bool
}

// Build returns the crypto/tls configuration, or nil when c asks for
// nothing beyond the defaults.
func (c TLSConfig) Build() (*tls.Config, error) {
	if c == (TLSConfig{}) {
		return nil, nil
	}
	tc := &tls.Config{InsecureSkipVerify: c.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls ca: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls ca: no certificate in %s", c.CAFile)
		}
	}
	if c.CertFile != "" || c.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// HTTPConfig configures an HTTPSink.
type HTTPConfig struct {
	URL string
	// Headers are added to every request (e.g. an Authorization token).
	Headers map[string]string
	// UserAgent is the User-Agent header; empty means "vigil".
	UserAgent string
	// Timeout bounds each request; <= 0 means 5s.
	Timeout time.Duration
	TLS     TLSConfig
	// JSON chooses the properties of the body.
	JSON alert.JSONOptions
	// Compression is "gzip" to compress each body (Content-Encoding:
	// gzip), or "" for none.
	Compression string
	// Echo, if not nil, receives every response body followed by a
	// newline, as Falco's http_output.echo writes the server's answers to
	// stdout.
	Echo io.Writer
}

// Compression names for HTTPConfig.Compression.
const (
	CompressionNone = ""
	CompressionGzip = "gzip"
)

// maxResponseRead bounds how much of a response is read (for reusing the
// connection and for echo); errorExcerpt how much of it an error quotes.
const (
	maxResponseRead = 64 << 10
	errorExcerpt    = 512
)

// HTTPSink POSTs each alert as the JSON body Falco's http_output sends,
// so falcosidekick and other Falco webhooks accept it unchanged. A 2xx
// status is success; a 4xx other than 408 and 429 means the receiver
// refuses this alert, which is not retried (a PermanentError quoting the
// response); any other status is a failure to retry.
type HTTPSink struct {
	cfg    HTTPConfig
	client *http.Client
	buf    []byte
	zbuf   bytes.Buffer
	zw     *gzip.Writer
}

// NewHTTPSink checks cfg and builds the client.
func NewHTTPSink(cfg HTTPConfig) (*HTTPSink, error) {
	if cfg.URL == "" {
		return nil, fmt.Errorf("http output: no url")
	}
	switch cfg.Compression {
	case CompressionNone, CompressionGzip:
	default:
		return nil, fmt.Errorf("http output: compression %q: want gzip or none", cfg.Compression)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "vigil"
	}
	tc, err := cfg.TLS.Build()
	if err != nil {
		return nil, fmt.Errorf("http output: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	return &HTTPSink{cfg: cfg, client: &http.Client{Transport: tr, Timeout: cfg.Timeout}}, nil
}

// Send POSTs the alert.
func (s *HTTPSink) Send(ctx context.Context, a *alert.Alert) error {
	s.buf = a.AppendJSON(s.buf[:0], s.cfg.JSON)
	body := s.buf
	if s.cfg.Compression == CompressionGzip {
		s.zbuf.Reset()
		if s.zw == nil {
			s.zw = gzip.NewWriter(&s.zbuf)
		} else {
			s.zw.Reset(&s.zbuf)
		}
		if _, err := s.zw.Write(body); err != nil {
			return fmt.Errorf("http output: gzip: %w", err)
		}
		if err := s.zw.Close(); err != nil {
			return fmt.Errorf("http output: gzip: %w", err)
		}
		body = s.zbuf.Bytes()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("http output: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.cfg.UserAgent)
	if s.cfg.Compression == CompressionGzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	for k, v := range s.cfg.Headers {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("http output: %w", err)
	}
	// Read a bounded part, never a whole unbounded body: enough to reuse
	// the connection, to echo and to quote in an error.
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseRead))
	resp.Body.Close()
	if s.cfg.Echo != nil && len(answer) > 0 {
		// The echo is for a person watching; the alert was delivered
		// whether or not it could be shown.
		_, _ = s.cfg.Echo.Write(append(bytes.TrimRight(answer, "\n"), '\n'))
	}
	if resp.StatusCode/100 == 2 {
		return nil
	}
	err = fmt.Errorf("http output: %s: %s", resp.Status, excerpt(answer))
	if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
		return Permanent(err)
	}
	return err
}

// excerpt quotes the start of a response body on one line.
func excerpt(b []byte) string {
	if len(b) > errorExcerpt {
		b = append(b[:errorExcerpt:errorExcerpt], "..."...)
	}
	return strconv.Quote(strings.TrimSpace(string(b)))
}

// Close releases idle connections.
func (s *HTTPSink) Close() error {
	s.client.CloseIdleConnections()
	return nil
}
