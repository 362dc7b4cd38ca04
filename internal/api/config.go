package api

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Config configures the API server. Zero values pick the defaults noted.
type Config struct {
	// Addr is the listen address ("127.0.0.1:8080"). Any address that is
	// not loopback requires tokens and TLS.
	Addr string `yaml:"addr"`
	// DataDir holds generated tokens and the self-signed certificate
	// (/var/lib/vigil).
	DataDir string `yaml:"data_dir"`
	// Tokens are the accepted bearer tokens. When none is configured, an
	// admin and a read-only token are generated on first start into
	// DataDir (api-admin.token, api-readonly.token, mode 0600).
	Tokens []Token `yaml:"tokens"`
	// TLSCert and TLSKey are PEM files. Without them a listener that
	// needs TLS uses a self-signed ECDSA certificate generated on first
	// start into DataDir (api-tls.crt, api-tls.key, mode 0600).
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// TLS serves TLS on loopback too.
	TLS bool `yaml:"tls"`
	// RequireAuth asks for a token on loopback too; without it, a
	// loopback client without a token may read, and state changes still
	// need an admin token.
	RequireAuth bool `yaml:"require_auth"`
	// AlertBuffer is how many recent alerts the server keeps (10000).
	AlertBuffer int `yaml:"alert_buffer"`
	// MaxStreams bounds the alert streams open at once (64).
	MaxStreams int `yaml:"max_streams"`
}

// Token is one accepted bearer token: given inline or read from a file.
type Token struct {
	Name  string `yaml:"name"`
	Role  string `yaml:"role"` // read-only or admin
	Token string `yaml:"token"`
	File  string `yaml:"file"`
}

// Default returns the defaults.
func Default() Config {
	return Config{Addr: "127.0.0.1:8080", DataDir: "/var/lib/vigil", AlertBuffer: 10000, MaxStreams: 64}
}

func (c Config) withDefaults() Config {
	d := Default()
	if c.Addr == "" {
		c.Addr = d.Addr
	}
	if c.DataDir == "" {
		c.DataDir = d.DataDir
	}
	if c.AlertBuffer == 0 {
		c.AlertBuffer = d.AlertBuffer
	}
	if c.MaxStreams == 0 {
		c.MaxStreams = d.MaxStreams
	}
	return c
}

// Validate checks the configuration, naming the key at fault.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("ui.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr", "%q: want host:port", c.Addr)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("tls_cert", "tls_cert and tls_key go together")
	}
	if c.AlertBuffer < 0 || c.AlertBuffer > 1_000_000 {
		bad("alert_buffer", "must be 1-1000000")
	}
	if c.MaxStreams < 0 {
		bad("max_streams", "must not be negative")
	}
	for i, t := range c.Tokens {
		key := fmt.Sprintf("tokens[%d]", i)
		if _, ok := ParseRole(t.Role); !ok {
			bad(key+".role", "%q: want read-only or admin", t.Role)
		}
		if (t.Token == "") == (t.File == "") {
			bad(key, "set one of token and file")
		}
		if t.Token != "" && len(t.Token) < 16 {
			bad(key+".token", "too short: use at least 16 characters")
		}
	}
	return errors.Join(errs...)
}

// Exposed reports whether addr listens beyond loopback: an empty host,
// a wildcard, a name other than localhost, or an address that is not
// loopback.
func Exposed(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return true
	}
	if strings.EqualFold(host, "localhost") {
		return false
	}
	a, err := netip.ParseAddr(host)
	return err != nil || !a.Unmap().IsLoopback()
}
