package rootfs

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func setup(t *testing.T) (*FS, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "vigil-only-here/sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "etc/hostname"), []byte("inside\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vigil-only-here/sub/f"), []byte("12345"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/hostname", filepath.Join(dir, "abs")); err != nil { // absolute: the root's /etc/hostname
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../../../etc/hostname", filepath.Join(dir, "up")); err != nil { // climbs: stops at the root
		t.Fatal(err)
	}
	if err := os.Symlink("/proc/self/root/etc/hostname", filepath.Join(dir, "magic")); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, dir
}

func TestLinksResolveInsideTheRoot(t *testing.T) {
	r, _ := setup(t)
	for _, name := range []string{"abs", "up", "etc/hostname"} {
		b, err := r.ReadFile(name, 100)
		if err != nil || string(b) != "inside\n" {
			t.Errorf("%s: %q %v", name, b, err)
		}
	}
	if _, err := r.ReadFile("magic", 100); err == nil {
		t.Error("a /proc magic link was followed")
	}
	if _, err := r.OpenFile("../x"); err == nil {
		t.Error("an invalid path was accepted")
	}
}

// Directory entries describe the root's files: os.File's own would lstat
// the same path on the host, which does not exist there.
func TestReadDirInfoComesFromTheRoot(t *testing.T) {
	r, _ := setup(t)
	ents, err := r.ReadDir("vigil-only-here/sub")
	if err != nil || len(ents) != 1 {
		t.Fatal(ents, err)
	}
	info, err := ents[0].Info()
	if err != nil || info.Size() != 5 || info.Mode() != 0o755 || info.Name() != "f" {
		t.Errorf("info %v %v", info, err)
	}
	st, err := r.Lstat("abs")
	if err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("lstat of a link: %v %v", st, err)
	}
	names := []string{}
	top, _ := r.ReadDir(".")
	for _, e := range top {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "abs,etc,magic,up,vigil-only-here" {
		t.Errorf("entries %v", names)
	}
}

func TestReadFileLimits(t *testing.T) {
	r, _ := setup(t)
	if _, err := r.ReadFile("etc/hostname", 3); err == nil || !strings.Contains(err.Error(), "over the 3-byte limit") {
		t.Errorf("err %v", err)
	}
	if _, err := r.ReadFile("etc", 100); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("err %v", err)
	}
}
