package api

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Generated certificate files, in the data directory.
const (
	CertFile = "api-tls.crt"
	KeyFile  = "api-tls.key"
)

// certLifetime is how long a generated certificate is valid; it is
// regenerated at start once less than a tenth is left.
const certLifetime = 397 * 24 * time.Hour

// loadTLS returns the server's certificate: the configured one, or the
// generated one, made (again) when missing, expiring, or not naming the
// listen address.
func loadTLS(cfg *Config, now time.Time) (*tls.Config, string, error) {
	certFile, keyFile := cfg.TLSCert, cfg.TLSKey
	if certFile == "" {
		certFile, keyFile = filepath.Join(cfg.DataDir, CertFile), filepath.Join(cfg.DataDir, KeyFile)
		if err := ensureCert(certFile, keyFile, cfg.Addr, now); err != nil {
			return nil, "", err
		}
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, "", fmt.Errorf("ui TLS: %w", err)
	}
	sum := sha256.Sum256(pair.Certificate[0])
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12},
		hex.EncodeToString(sum[:]), nil
}

// ensureCert keeps a usable self-signed certificate in certFile.
func ensureCert(certFile, keyFile, addr string, now time.Time) error {
	names, ips := certNames(addr)
	if data, err := os.ReadFile(certFile); err == nil {
		if b, _ := pem.Decode(data); b != nil {
			if c, err := x509.ParseCertificate(b.Bytes); err == nil && certUsable(c, ips, now) {
				if _, err := os.Stat(keyFile); err == nil {
					return nil
				}
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(certFile), 0o700); err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "vigil " + host, Organization: []string{"Vigil (self-signed)"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	// Replace both files: a stale pair must not survive half-written.
	for _, f := range []struct {
		path string
		typ  string
		der  []byte
	}{{keyFile, "PRIVATE KEY", kb}, {certFile, "CERTIFICATE", der}} {
		tmp := f.path + ".tmp"
		// A temporary file left by an interrupted run would make
		// writeExclusive fail.
		if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := writeExclusive(tmp, pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der})); err != nil {
			return err
		}
		if err := os.Rename(tmp, f.path); err != nil {
			return err
		}
	}
	return nil
}

// certNames are the names and addresses a generated certificate covers:
// localhost, the host name, loopback, and the listen address (every
// interface's address for a wildcard).
func certNames(addr string) ([]string, []net.IP) {
	names := []string{"localhost"}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		names = append(names, h)
	}
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	host, _, _ := net.SplitHostPort(addr)
	a, err := netip.ParseAddr(host)
	switch {
	case err != nil && host != "":
		names = append(names, host)
	case host == "" || a.IsUnspecified():
		if as, err := net.InterfaceAddrs(); err == nil {
			for _, ia := range as {
				if n, ok := ia.(*net.IPNet); ok && !n.IP.IsLoopback() {
					ips = append(ips, n.IP)
				}
			}
		}
	case !a.IsLoopback():
		ips = append(ips, net.IP(a.AsSlice()))
	}
	return names, ips
}

func certUsable(c *x509.Certificate, ips []net.IP, now time.Time) bool {
	left := c.NotAfter.Sub(now)
	if left < certLifetime/10 || now.Before(c.NotBefore) {
		return false
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(c.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}
