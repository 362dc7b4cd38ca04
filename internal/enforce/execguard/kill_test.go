package execguard

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

// touchRun execs path (a copy of touch) to create a fresh marker and
// reports whether the marker appeared, the child's pid and its Wait error.
type touchRun struct {
	pid    int
	err    error
	marker bool
}

func runTouch(t *testing.T, path, dir string, attr *syscall.SysProcAttr) touchRun {
	t.Helper()
	marker := filepath.Join(t.TempDir(), "marker")
	cmd := exec.Command(path, marker)
	cmd.Dir = dir
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	err := cmd.Wait()
	return touchRun{pid: cmd.Process.Pid, err: err, marker: exists(marker)}
}

func (r touchRun) checkKilled(t *testing.T) {
	t.Helper()
	if !killedBySIGKILL(r.err) || r.marker {
		t.Fatalf("pid %d: wait %v, marker created %v; want killed by SIGKILL before it ran", r.pid, r.err, r.marker)
	}
}

func (r touchRun) checkRan(t *testing.T) {
	t.Helper()
	if r.err != nil || !r.marker {
		t.Fatalf("pid %d: wait %v, marker created %v; want a normal run", r.pid, r.err, r.marker)
	}
}

func TestKillByComm(t *testing.T) {
	g := openGuard(t, Config{}) // argv capture too: a killed exec leaves no pending entry
	recs := records(t, g)
	bin := testutil.CopyExecutable(t, "/bin/touch", "vgkill-comm-touch") // comm is cut to 15 bytes
	comm := "vgkill-comm-tou"

	before := runTouch(t, bin, "", nil)
	before.checkRan(t)
	noRecordFor(t, g, recs, before.pid)

	if err := g.SetKillRules([]KillRule{{ID: 7, Comm: "vgkill-comm-touch"}}); err != nil {
		t.Fatal(err)
	}
	run := runTouch(t, bin, "", nil)
	run.checkKilled(t)
	dev, ino, err := InodeOf(bin)
	if err != nil {
		t.Fatal(err)
	}
	got := recordFor(t, recs, run.pid)
	want := KillRecord{
		KtimeNS: got.KtimeNS, PID: uint32(run.pid), TGID: uint32(run.pid), PPID: uint32(os.Getpid()),
		UID: 0, EUID: 0, Comm: comm, CgroupID: ownCgroupID(t), Filename: bin, Dev: dev, Ino: ino, RuleID: 7,
	}
	if got != want || got.KtimeNS == 0 || !got.Killed() {
		t.Fatalf("record\n got %+v\nwant %+v", got, want)
	}
	if e, ok := g.Pending(uint32(run.pid)); ok {
		t.Errorf("killed exec left a pending entry %+v", summary(e))
	}

	// A rejected update leaves the set in force.
	if err := g.SetKillRules([]KillRule{{ID: 8, Comm: "x"}, {ID: 9, Comm: "x"}}); err == nil {
		t.Fatal("duplicate rules accepted")
	}
	runTouch(t, bin, "", nil).checkKilled(t)
	if m := g.Mechanisms(); len(m) != 2 || !strings.Contains(m[1], "1 rules") || !strings.Contains(m[0], "execve") {
		t.Errorf("Mechanisms() = %q", m)
	}

	if err := g.SetKillRules(nil); err != nil {
		t.Fatal(err)
	}
	runTouch(t, bin, "", nil).checkRan(t)
	st := g.Stats()
	if st.Killed != 2 || st.Audited != 0 || st.RingDrops != 0 || st.Received != 2 || st.Rules != 0 || st.Generation != 2 ||
		st.Captured < 4 || st.CaptureFailures != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestKillByInode(t *testing.T) {
	g := openGuard(t, Config{SkipArgv: true})
	recs := records(t, g)
	dir := t.TempDir()
	bin := testutil.CopyExecutable(t, "/bin/touch", filepath.Join(dir, "vgino"))
	other := testutil.CopyExecutable(t, "/bin/touch", filepath.Join(dir, "vgino-other"))
	link := filepath.Join(dir, "vgino-link")
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	dev, ino, err := InodeOf(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.SetKillRules([]KillRule{{ID: 9, Dev: dev, Ino: ino}}); err != nil {
		t.Fatal(err)
	}
	renamed := filepath.Join(dir, "vgino-renamed")
	cases := []struct {
		name, path, dir, comm string
		before                func()
	}{
		{"absolute", bin, "", "vgino", nil},
		{"symlink", link, "", "vgino-link", nil},
		{"relative", "./vgino", dir, "vgino", nil},
		{"renamed", renamed, "", "vgino-renamed", func() {
			if err := os.Rename(bin, renamed); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.before != nil {
				c.before()
			}
			run := runTouch(t, c.path, c.dir, nil)
			run.checkKilled(t)
			got := recordFor(t, recs, run.pid)
			if got.Comm != c.comm || got.Filename != c.path || got.Dev != dev || got.Ino != ino || got.RuleID != 9 || !got.Killed() {
				t.Fatalf("record %+v; want comm %q, filename %q, dev %d, ino %d, rule 9", got, c.comm, c.path, dev, ino)
			}
		})
	}
	// A copy with the same content is another file.
	runTouch(t, other, "", nil).checkRan(t)
}

func TestKillScopes(t *testing.T) {
	g := openGuard(t, Config{SkipArgv: true})
	recs := records(t, g)
	bin := testutil.CopyExecutable(t, "/bin/touch", "vgscope")
	child, fd := childCgroup(t)
	inChild := &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	own := ownCgroupID(t)
	if child == own {
		t.Fatalf("child cgroup id %d equals the test's", child)
	}

	cases := []struct {
		name           string
		scope          Scope
		childContainer bool // register the child cgroup as a container
		killOwn        bool
		killChild      bool
	}{
		{"one cgroup", Scope{Kind: ScopeCgroup, CgroupID: child}, false, false, true},
		{"host", Scope{Kind: ScopeHost}, true, true, false},
		{"containers", Scope{Kind: ScopeContainers}, true, false, true},
		{"any", Scope{Kind: ScopeAny}, true, true, true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := g.SetContainer(child, c.childContainer); err != nil {
				t.Fatal(err)
			}
			id := uint32(100 + i)
			if err := g.SetKillRules([]KillRule{{ID: id, Scope: c.scope, Comm: "vgscope"}}); err != nil {
				t.Fatal(err)
			}
			for _, where := range []struct {
				attr *syscall.SysProcAttr
				cg   uint64
				kill bool
			}{{nil, own, c.killOwn}, {inChild, child, c.killChild}} {
				run := runTouch(t, bin, "", where.attr)
				if !where.kill {
					run.checkRan(t)
					noRecordFor(t, g, recs, run.pid)
					continue
				}
				run.checkKilled(t)
				if got := recordFor(t, recs, run.pid); got.CgroupID != where.cg || got.RuleID != id {
					t.Fatalf("record %+v; want cgroup %d, rule %d", got, where.cg, id)
				}
			}
		})
	}
}

func TestAuditReportsWithoutKilling(t *testing.T) {
	g := openGuard(t, Config{SkipArgv: true})
	recs := records(t, g)
	bin := testutil.CopyExecutable(t, "/bin/touch", "vgaudit")
	if err := g.SetKillRules([]KillRule{{ID: 3, Comm: "vgaudit", Audit: true}}); err != nil {
		t.Fatal(err)
	}
	run := runTouch(t, bin, "", nil)
	run.checkRan(t)
	got := recordFor(t, recs, run.pid)
	if !got.Audit || got.Killed() || got.RuleID != 3 || got.Comm != "vgaudit" || got.Filename != bin {
		t.Fatalf("record %+v; want an audit of rule 3", got)
	}
	if st := g.Stats(); st.Audited != 1 || st.Killed != 0 {
		t.Errorf("stats %+v", st)
	}

	// A kill rule on the same program wins over the audit rule.
	dev, ino, _ := InodeOf(bin)
	if err := g.SetKillRules([]KillRule{{ID: 3, Comm: "vgaudit", Audit: true}, {ID: 4, Dev: dev, Ino: ino}}); err != nil {
		t.Fatal(err)
	}
	run = runTouch(t, bin, "", nil)
	run.checkKilled(t)
	if got := recordFor(t, recs, run.pid); got.RuleID != 4 || got.Audit {
		t.Fatalf("record %+v; want the kill rule 4", got)
	}
}

// execOnInput starts a helper that execs argv once release is called, so
// the test knows the pid before the exec. release does not wait.
func execOnInput(t *testing.T, argv []string, env ...string) (cmd *exec.Cmd, release func()) {
	t.Helper()
	cmd = helperCmd("exec-on-input", argv, env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// EOF releases the helper; closing our end fails only when closed
	// twice.
	return cmd, func() { _ = stdin.Close() }
}

func TestProtectedAndAgentNotKilled(t *testing.T) {
	bin := testutil.CopyExecutable(t, "/bin/touch", "vgprotect")
	marker := func() string { return filepath.Join(t.TempDir(), "marker") }

	g := openGuard(t, Config{SkipArgv: true})
	recs := records(t, g)
	if err := g.SetKillRules([]KillRule{{ID: 1, Comm: "vgprotect"}, {ID: 2, Comm: "vgprotect", Scope: Scope{Kind: ScopeHost}, Audit: true}}); err != nil {
		t.Fatal(err)
	}

	m := marker()
	cmd, release := execOnInput(t, []string{bin, m})
	release()
	if err := cmd.Wait(); !killedBySIGKILL(err) || exists(m) {
		t.Fatalf("unprotected helper: wait %v, marker %v; want killed", err, exists(m))
	}
	recordFor(t, recs, cmd.Process.Pid)

	m = marker()
	cmd, release = execOnInput(t, []string{bin, m})
	if err := g.Protect(uint32(cmd.Process.Pid)); err != nil {
		t.Fatal(err)
	}
	release()
	if err := cmd.Wait(); err != nil || !exists(m) {
		t.Fatalf("protected helper: wait %v, marker %v; want a normal run", err, exists(m))
	}
	noRecordFor(t, g, recs, cmd.Process.Pid)
	if err := g.Unprotect(uint32(cmd.Process.Pid)); err != nil {
		t.Fatal(err)
	}

	// A second guard that takes the helper for Vigil itself spares it; the
	// first guard is closed so only the second decides.
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	m = marker()
	cmd, release = execOnInput(t, []string{bin, m})
	agent := openGuard(t, Config{SkipArgv: true, IgnorePID: cmd.Process.Pid})
	if err := agent.SetKillRules([]KillRule{{ID: 1, Comm: "vgprotect"}}); err != nil {
		t.Fatal(err)
	}
	release()
	if err := cmd.Wait(); err != nil || !exists(m) {
		t.Fatalf("agent helper: wait %v, marker %v; want a normal run", err, exists(m))
	}
	if st := agent.Stats(); st.Killed != 0 || st.Audited != 0 {
		t.Errorf("agent guard stats %+v", st)
	}
}

// TestKillMemfd runs a copy of touch from a memfd, as fileless malware
// does: a memfd rule kills it before it runs, while the same program from
// a file runs.
func TestKillMemfd(t *testing.T) {
	g := openGuard(t, Config{SkipArgv: true})
	recs := records(t, g)
	if err := g.SetKillRules([]KillRule{{ID: 21, Memfd: true, Scope: Scope{Kind: ScopeHost}}}); err != nil {
		t.Fatal(err)
	}
	mem := testutil.MemfdCopy(t, "/bin/touch", "vgpayload")
	marker := filepath.Join(t.TempDir(), "marker")
	cmd := exec.Command("/dev/fd/3", marker) // the child's fd 3 is the memfd
	cmd.ExtraFiles = []*os.File{mem}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	run := touchRun{pid: cmd.Process.Pid, err: cmd.Wait(), marker: exists(marker)}
	run.checkKilled(t)
	got := recordFor(t, recs, run.pid)
	if !got.Memfd || got.RuleID != 21 || got.Filename != "/dev/fd/3" || got.Comm != "3" || !got.Killed() {
		t.Fatalf("record %+v; want a memfd kill by rule 21 of /dev/fd/3", got)
	}
	runTouch(t, testutil.CopyExecutable(t, "/bin/touch", "vgmemfd-disk"), "", nil).checkRan(t)
}
