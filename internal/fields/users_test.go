package fields

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestUsersReloadOnMiss(t *testing.T) {
	dir := t.TempDir()
	passwd := filepath.Join(dir, "passwd")
	if err := os.WriteFile(passwd, []byte("root:x:0:0::/root:/bin/sh\nalias:x:0:0::/:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	u := NewUsers(passwd, filepath.Join(dir, "no-such-group"))
	if name, ok := u.User(0); !ok || name != "root" {
		t.Errorf("uid 0 = %q %v; the first name for an id wins", name, ok)
	}
	if _, ok := u.Group(0); ok {
		t.Error("a missing group file resolved a name")
	}

	// A user added later is found once the recheck interval allows a
	// re-read; misses in between do not touch the file.
	if err := os.WriteFile(passwd, []byte("root:x:0:0::/root:/bin/sh\nbob:x:1001:1001::/:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(passwd, future, future); err != nil {
		t.Fatal(err)
	}
	if _, ok := u.User(1001); ok {
		// The first miss after start may re-read; a second must not be needed.
		t.Log("found on the first miss")
	}
	u.users.nextCheck.Store(0)
	if name, ok := u.User(1001); !ok || name != "bob" {
		t.Errorf("uid 1001 after the file changed = %q %v", name, ok)
	}
	if n := testing.AllocsPerRun(100, func() { u.User(0) }); n != 0 {
		t.Errorf("a hit allocates %.0f times", n)
	}
	u.users.nextCheck.Store(time.Now().Add(time.Hour).UnixNano())
	if n := testing.AllocsPerRun(100, func() { u.User(4242) }); n != 0 {
		t.Errorf("a rate-limited miss allocates %.0f times", n)
	}
}

func TestParseIDFile(t *testing.T) {
	m := parseIDFile([]byte("a:x:1:1\n:x:2:2\nb:x:notanumber:3\nc:x:4294967296:1\n\n#d:x:5\ne:x:6\n"))
	if len(m) != 2 || m[1] != "a" || m[6] != "e" {
		t.Errorf("parsed %v", m)
	}
}
