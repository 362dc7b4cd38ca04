package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
)

// Role is what a token may do.
type Role uint8

// Roles. RoleNone is a loopback client without a token, which may read
// unless require_auth is set.
const (
	RoleNone Role = iota
	RoleReadOnly
	RoleAdmin
)

// String returns the role's name.
func (r Role) String() string {
	switch r {
	case RoleReadOnly:
		return "read-only"
	case RoleAdmin:
		return "admin"
	}
	return "anonymous"
}

// ParseRole reads "read-only" or "admin".
func ParseRole(s string) (Role, bool) {
	switch s {
	case "read-only":
		return RoleReadOnly, true
	case "admin":
		return RoleAdmin, true
	}
	return RoleNone, false
}

// principal is who made a request.
type principal struct {
	name string
	role Role
}

type tokenEntry struct {
	name string
	role Role
	hash [sha256.Size]byte
}

// Generated token files, in the data directory.
const (
	AdminTokenFile    = "api-admin.token"
	ReadOnlyTokenFile = "api-readonly.token"
)

// loadTokens reads the configured tokens, or generates the two default
// ones into dataDir when none is configured. Only hashes are kept.
func loadTokens(cfg *Config) ([]tokenEntry, error) {
	var out []tokenEntry
	for i, t := range cfg.Tokens {
		role, _ := ParseRole(t.Role)
		secret := t.Token
		if t.File != "" {
			data, err := os.ReadFile(t.File)
			if err != nil {
				return nil, fmt.Errorf("ui.tokens[%d]: %w", i, err)
			}
			secret = strings.TrimSpace(string(data))
			if len(secret) < 16 {
				return nil, fmt.Errorf("ui.tokens[%d]: %s: token too short", i, t.File)
			}
		}
		name := t.Name
		if name == "" {
			name = fmt.Sprintf("token %d", i)
		}
		out = append(out, tokenEntry{name: name, role: role, hash: sha256.Sum256([]byte(secret))})
	}
	if len(out) > 0 {
		return out, nil
	}
	for _, g := range []struct {
		file string
		role Role
	}{{AdminTokenFile, RoleAdmin}, {ReadOnlyTokenFile, RoleReadOnly}} {
		secret, err := ensureToken(filepath.Join(cfg.DataDir, g.file))
		if err != nil {
			return nil, err
		}
		out = append(out, tokenEntry{name: g.role.String(), role: g.role, hash: sha256.Sum256([]byte(secret))})
	}
	return out, nil
}

// ensureToken returns the token in path, writing a new random one (256
// bits, mode 0600) when the file does not exist. An existing file that
// others can read is refused: the token may have leaked.
func ensureToken(path string) (string, error) {
	if fi, err := os.Stat(path); err == nil {
		if fi.Mode().Perm()&0o077 != 0 {
			return "", fmt.Errorf("%s: mode %v lets others read the token; chmod 600 it or delete it to get a new one", path, fi.Mode().Perm())
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return "", err
		}
		if s := strings.TrimSpace(string(data)); len(s) >= 16 {
			return s, nil
		}
		return "", fmt.Errorf("%s: token too short", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	secret := base64.RawURLEncoding.EncodeToString(b)
	if err := writeExclusive(path, []byte(secret+"\n")); err != nil {
		return "", err
	}
	return secret, nil
}

// writeExclusive creates path with mode 0600, failing if it exists.
func writeExclusive(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		// A half-written file must not be taken for a whole one later.
		return errors.Join(err, f.Close(), os.Remove(path))
	}
	return f.Close()
}

// authenticate finds the request's principal. ok is false for a bad
// token, or a missing one where a token is required.
func (s *Server) authenticate(r *http.Request) (principal, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		if s.requireAuth {
			return principal{}, false
		}
		return principal{name: "anonymous (loopback)", role: RoleNone}, true
	}
	secret, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || secret == "" {
		return principal{}, false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(secret)))
	var found *tokenEntry
	// Every entry is compared, so the time taken does not say which one
	// matched.
	for i := range s.tokens {
		if subtle.ConstantTimeCompare(sum[:], s.tokens[i].hash[:]) == 1 {
			found = &s.tokens[i]
		}
	}
	if found == nil {
		return principal{}, false
	}
	return principal{name: found.name, role: found.role}, true
}

// allowed reports whether who may use a route that needs role need: a
// missing token reads as read-only on loopback.
func allowed(who principal, need Role) bool {
	have := who.role
	if have == RoleNone {
		have = RoleReadOnly
	}
	return have >= need
}

// loopbackHost reports whether a Host header names this machine by a
// loopback address or localhost. On a loopback listener without tokens,
// other names are refused: a web page whose name was rebound to 127.0.0.1
// must not read the API.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}
