package api

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// FuzzParseAlertQuery: any query either parses or is a 400 naming what
// is wrong, never a panic; what parses writes back to a query that
// parses to the same thing.
func FuzzParseAlertQuery(f *testing.F) {
	for _, s := range []string{
		"", "priority=Critical,warning&min_priority=notice", "rule=Rule+A&rule=Rule%2C+with+comma",
		"workload=k8s%2Fshop%2Fdeployment%2Fweb%2Fapp&namespace=shop,ops", "q=%E2%9C%93+shadow",
		"since=2026-05-01T10:00:00%2B02:00&until=2026-05-02T00:00:00Z", "cursor=42&limit=500", "limit=0",
		"cursor=007", "q=%00", "%zz", "a=1&a=2", "priority=info",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, stream bool) {
		q, err := parseAlertQuery(raw, stream)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.status != 400 || e.Message == "" {
				t.Fatalf("%q: error %v is not a 400", raw, err)
			}
			return
		}
		again, err := parseAlertQuery(q.encode(stream), stream)
		if err != nil {
			t.Fatalf("%q -> %q: %v", raw, q.encode(stream), err)
		}
		if !sameQuery(q, again) {
			t.Fatalf("%q: %+v\nround trip %+v", raw, q, again)
		}
	})
}

func sameQuery(a, b alertQuery) bool {
	if !a.Since.Equal(b.Since) || !a.Until.Equal(b.Until) {
		return false
	}
	a.Since, a.Until, b.Since, b.Until = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

func TestExposed(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": false, "[::1]:8080": false, "localhost:8080": false, "127.0.0.53:1": false,
		"0.0.0.0:8080": true, ":8080": true, "10.0.0.1:8080": true, "[::]:8080": true, "example.com:80": true,
		"garbage": true,
	} {
		if got := Exposed(addr); got != want {
			t.Errorf("Exposed(%q) = %v", addr, got)
		}
	}
}

// TestTokenFiles: a generated token is reused; one that others can
// read is refused rather than trusted.
func TestTokenFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "t.token")
	a, err := ensureToken(path)
	if err != nil || len(a) < 40 {
		t.Fatalf("%q %v", a, err)
	}
	if b, err := ensureToken(path); err != nil || b != a {
		t.Errorf("second read %q %v", b, err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ensureToken(path); err == nil {
		t.Error("a world-readable token was accepted")
	}
}

// TestGeneratedCert: the certificate names the listen address and is
// made again when it does not, or when it is about to expire.
func TestGeneratedCert(t *testing.T) {
	dir := t.TempDir()
	crt, key := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	read := func() *x509.Certificate {
		data, err := os.ReadFile(crt)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := pem.Decode(data)
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if err := ensureCert(crt, key, "192.0.2.7:8443", now); err != nil {
		t.Fatal(err)
	}
	c1 := read()
	if c1.PublicKeyAlgorithm != x509.ECDSA || c1.VerifyHostname("192.0.2.7") != nil || c1.VerifyHostname("localhost") != nil {
		t.Errorf("certificate: %v %v", c1.PublicKeyAlgorithm, c1.IPAddresses)
	}
	if err := ensureCert(crt, key, "192.0.2.7:8443", now.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if read().SerialNumber.Cmp(c1.SerialNumber) != 0 {
		t.Error("a good certificate was replaced")
	}
	if err := ensureCert(crt, key, "192.0.2.8:8443", now); err != nil {
		t.Fatal(err)
	}
	if c := read(); c.VerifyHostname("192.0.2.8") != nil {
		t.Error("not regenerated for a new address")
	}
	if err := ensureCert(crt, key, "192.0.2.8:8443", now.Add(380*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if c := read(); !c.NotAfter.After(now.Add(400 * 24 * time.Hour)) {
		t.Error("not renewed before expiry")
	}
	if fi, _ := os.Stat(key); fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v", fi.Mode().Perm())
	}
}
