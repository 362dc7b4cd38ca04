package testutil

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// repoRoot is the repository's top directory, from this file's path.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Postgres starts the test PostgreSQL (scripts/postgres-up.sh: installs
// it from Debian's packages when missing) and returns a URL to a fresh
// database of its own, dropped when the test ends. Without root it
// skips, or fails in CI.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := PostgresAdminURL(t)
	var b [6]byte
	rand.Read(b[:])
	name := "vigil_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer func() {
		if err := conn.Close(ctx); err != nil {
			t.Logf("postgres: %v", err)
		}
	}()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("postgres: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Logged, not failed: the verdict is made, and a database left
		// behind only takes space on the test server.
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("cleanup: postgres: %v", err)
			return
		}
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("cleanup: drop database %s: %v", name, err)
		}
		if err := c.Close(ctx); err != nil {
			t.Logf("cleanup: postgres: %v", err)
		}
	})
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return u.String()
}

// PostgresAdminURL starts the test PostgreSQL and returns the URL of its
// postgres database.
func PostgresAdminURL(t testing.TB) string {
	t.Helper()
	RequireRoot(t, "the test PostgreSQL is started as root (scripts/postgres-up.sh)")
	out, err := exec.Command(filepath.Join(repoRoot(), "scripts", "postgres-up.sh")).Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg += ": " + string(ee.Stderr)
		}
		Require(t, false, "PostgreSQL (scripts/postgres-up.sh failed: "+msg+")")
	}
	return strings.TrimSpace(string(out))
}

// RestartPostgres stops the test PostgreSQL (fast: connections are cut),
// waits down, then starts it again.
func RestartPostgres(t testing.TB, down time.Duration) {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		t.Fatal("no pg_ctl")
	}
	pgctl := bins[len(bins)-1]
	if out, err := exec.Command("su", "postgres", "-s", "/bin/sh", "-c", pgctl+" -D /var/lib/vigil-test/pg -m fast -w stop").CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
	time.Sleep(down)
	if out, err := exec.Command(filepath.Join(repoRoot(), "scripts", "postgres-up.sh")).CombinedOutput(); err != nil {
		t.Fatalf("postgres-up: %v\n%s", err, out)
	}
}
