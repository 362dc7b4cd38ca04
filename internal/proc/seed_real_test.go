package proc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

// TestSeedRealProc seeds from the live /proc and checks a child we started
// ourselves, field by field.
func TestSeedRealProc(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	testutil.Require(t, err == nil, "a sleep program in PATH")
	cmd := exec.Command(sleep, "3600", "0.4242") // GNU sleep sums its arguments
	cmd.Dir = t.TempDir()
	if err := cmd.Start(); err != nil { // returns once the exec has happened
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	tbl := New()
	if err := tbl.Seed("/proc"); err != nil {
		t.Fatal(err)
	}
	s := tbl.Stats()
	t.Logf("seeded %d processes, %d errors", s.Seeded, s.SeedErrors)

	pid := uint32(cmd.Process.Pid)
	p := mustGet(t, tbl, pid)
	wantExe, _ := filepath.EvalSymlinks(sleep)
	wantCwd, _ := filepath.EvalSymlinks(cmd.Dir)
	if p.Comm != filepath.Base(wantExe) && p.Comm != "sleep" {
		t.Errorf("comm %q", p.Comm)
	}
	if p.Exe != wantExe {
		t.Errorf("exe %q want %q", p.Exe, wantExe)
	}
	if got := p.Argv(); !slices.Equal(got, cmd.Args) {
		t.Errorf("argv %q want %q", got, cmd.Args)
	}
	if p.Cwd != wantCwd {
		t.Errorf("cwd %q want %q", p.Cwd, wantCwd)
	}
	if p.PPID != uint32(os.Getpid()) {
		t.Errorf("ppid %d want %d", p.PPID, os.Getpid())
	}
	if p.UID != uint32(os.Getuid()) || p.EUID != uint32(os.Geteuid()) ||
		p.GID != uint32(os.Getgid()) || p.EGID != uint32(os.Getegid()) {
		t.Errorf("ids %d/%d %d/%d", p.UID, p.EUID, p.GID, p.EGID)
	}
	if !p.Seeded || p.StartTime == 0 {
		t.Errorf("seeded=%v start=%d", p.Seeded, p.StartTime)
	}
	if link, err := os.Readlink("/proc/self/ns/mnt"); err == nil && p.MntNS != nsInode(link) {
		t.Errorf("mntns %d, ours is %s", p.MntNS, link)
	}
	if os.Geteuid() == 0 && p.CapEffective == 0 {
		t.Errorf("root child has no effective capabilities")
	}

	self := mustGet(t, tbl, uint32(os.Getpid()))
	if exe, err := os.Executable(); err == nil && self.Exe != exe {
		t.Errorf("our own exe %q want %q", self.Exe, exe)
	}

	var chain []uint32
	tbl.Ancestors(pid, 0, func(a Process) bool {
		chain = append(chain, a.PID)
		return true
	})
	if len(chain) == 0 || chain[0] != uint32(os.Getpid()) || chain[len(chain)-1] != 1 {
		t.Fatalf("ancestry of %d does not reach pid 1: %v", pid, chain)
	}

	// Kernel threads are present with a name but no executable.
	if k, ok := tbl.Get(2); ok && k.Comm == "kthreadd" && k.Exe != "" {
		t.Errorf("kthreadd has exe %q", k.Exe)
	}
}

// TestSeedRealCgroupID checks the best-effort cgroup id against the
// directory inode of our own cgroup, where a unified hierarchy exists.
func TestSeedRealCgroupID(t *testing.T) {
	res := newCgroupResolver("/proc")
	testutil.Require(t, res.root != "", "a cgroup v2 hierarchy mounted")
	content, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var rel string
	for _, line := range strings.Split(string(content), "\n") {
		if r, ok := strings.CutPrefix(line, "0::"); ok {
			rel = r
		}
	}
	fi, err := os.Stat(filepath.Join(res.root, rel))
	testutil.Require(t, err == nil, fmt.Sprintf("our own cgroup directory under the cgroup v2 root (%v)", err))
	want := statIno(fi)
	tbl := New()
	if err := tbl.Seed("/proc"); err != nil {
		t.Fatal(err)
	}
	if p := mustGet(t, tbl, uint32(os.Getpid())); p.CgroupID != want || want == 0 {
		t.Fatalf("cgroup id %d want %d", p.CgroupID, want)
	}
}
