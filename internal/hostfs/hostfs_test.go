package hostfs

import (
	"path/filepath"
	"testing"
)

func TestPath(t *testing.T) {
	t.Cleanup(func() {
		if err := SetRoot("/"); err != nil {
			t.Error(err)
		}
	})
	if got := Path("/etc/passwd"); got != "/etc/passwd" || !OnHost() {
		t.Fatalf("default root: Path = %q, OnHost %v", got, OnHost())
	}
	dir := t.TempDir()
	if err := SetRoot(dir + "/"); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"/etc/passwd":      dir + "/etc/passwd",
		"/proc/../etc/x":   dir + "/etc/x",
		"run/k3s/c.sock":   dir + "/run/k3s/c.sock",
		"/../../etc/group": dir + "/etc/group",
	} {
		if got := Path(in); got != want {
			t.Errorf("Path(%q) = %q, want %q", in, got, want)
		}
	}
	if ProcPID(42) != dir+"/proc/42" || OnHost() {
		t.Errorf("ProcPID = %q, OnHost %v", ProcPID(42), OnHost())
	}
}

func TestSetRootRejects(t *testing.T) {
	t.Cleanup(func() {
		if err := SetRoot("/"); err != nil {
			t.Error(err)
		}
	})
	for _, bad := range []string{"host", filepath.Join(t.TempDir(), "missing")} {
		if err := SetRoot(bad); err == nil {
			t.Errorf("SetRoot(%q) accepted", bad)
		}
	}
	if Root() != "/" {
		t.Errorf("a refused root changed Root to %q", Root())
	}
}
