package outputs

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
)

// TLSConfig is client TLS for outputs that reach servers over TLS.
type TLSConfig struct {
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
	// Timeout bounds each request; <= 0 means 5s.
	Timeout time.Duration
	TLS     TLSConfig
}

// HTTPSink POSTs each alert as the JSON body Falco's http_output sends,
// so falcosidekick and other Falco webhooks accept it unchanged. Any
// status other than 2xx is a failure to retry.
type HTTPSink struct {
	cfg    HTTPConfig
	client *http.Client
	buf    []byte
}

// NewHTTPSink checks cfg and builds the client.
func NewHTTPSink(cfg HTTPConfig) (*HTTPSink, error) {
	if cfg.URL == "" {
		return nil, fmt.Errorf("http output: no url")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
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
	var err error
	if s.buf, err = appendJSON(s.buf[:0], a); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(s.buf))
	if err != nil {
		return fmt.Errorf("http output: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vigil")
	for k, v := range s.cfg.Headers {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("http output: %w", err)
	}
	// Drain a little so the connection can be reused, never a whole
	// unbounded body.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("http output: %s", resp.Status)
	}
	return nil
}

// Close releases idle connections.
func (s *HTTPSink) Close() error {
	s.client.CloseIdleConnections()
	return nil
}
