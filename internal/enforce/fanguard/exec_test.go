package fanguard

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

// TestExecBlockAndAllow denies one binary on a watched mount and allows
// another: the denied exec fails with EPERM before the program runs, and the
// Decider saw the exact file and process.
func TestExecBlockAndAllow(t *testing.T) {
	requireRoot(t)
	mnt := testMount(t)
	denied := testutil.CopyExecutable(t, "/bin/touch", filepath.Join(mnt, "touch"))
	allowed := testutil.CopyExecutable(t, "/bin/touch", filepath.Join(mnt, "touch2"))
	rec := &recorder{decide: func(r *Request) Verdict { return Verdict{Allow: r.Path != denied} }}
	g := startGuard(t, Config{Decide: rec.Decide, CacheSize: -1})
	if !g.ReportsTID() {
		t.Fatal("FAN_REPORT_TID refused on a kernel that has it (5.13+)")
	}
	if err := g.WatchExecMount(mnt); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()

	marker := filepath.Join(out, "denied")
	err := exec.Command(denied, marker).Run()
	if !errors.Is(err, syscall.EPERM) {
		t.Fatalf("exec of the denied binary: err = %v, want EPERM", err)
	}
	var pathErr *os.PathError
	if !errors.As(err, &pathErr) || pathErr.Path != denied {
		t.Errorf("error %v does not name %s", err, denied)
	}
	if fileExists(marker) {
		t.Fatal("the denied program ran: its marker exists")
	}

	// Through a shell that prints its pid and then execs in place, to check
	// the pid the Decider saw.
	sh, err := exec.Command("/bin/sh", "-c", `echo $$; exec "$0" "$1"`, denied, marker).Output()
	if err == nil {
		t.Fatal("sh exec of the denied binary succeeded")
	}
	shPid := uint32(atoi(t, strings.TrimSpace(string(sh))))

	okMarker := filepath.Join(out, "allowed")
	cmd := exec.Command(allowed, okMarker)
	if err := cmd.Run(); err != nil {
		t.Fatalf("exec of the allowed binary: %v", err)
	}
	if !fileExists(okMarker) {
		t.Fatal("the allowed program did not run")
	}

	reqs := rec.requests()
	if len(reqs) != 3 {
		t.Fatalf("Decider called %d times, want 3: %+v", len(reqs), reqs)
	}
	dev, ino := statOf(t, denied)
	for i, r := range reqs[:2] {
		if r.Kind != Exec || r.Path != denied || r.Dev != dev || r.Ino != ino || r.Mode&0o777 != 0o755 || r.UID != 0 {
			t.Errorf("request %d = %+v, want exec of %s (dev %d ino %d mode 0755)", i, r, denied, dev, ino)
		}
		if r.Received.IsZero() {
			t.Errorf("request %d has no Received time", i)
		}
	}
	if reqs[1].PID != shPid || reqs[1].TID != shPid {
		t.Errorf("sh exec: PID %d TID %d, want both %d", reqs[1].PID, reqs[1].TID, shPid)
	}
	childPid := uint32(cmd.Process.Pid)
	if r := reqs[2]; r.Kind != Exec || r.Path != allowed || r.PID != childPid || r.TID != childPid {
		t.Errorf("allowed exec = %+v, want %s by pid %d", r, allowed, childPid)
	}
	st := g.Stats()
	want := Stats{ExecEvents: 3, Allowed: 1, Denied: 2, Decided: 3}
	if !sameCounts(st, want) {
		t.Errorf("stats %+v, want %+v", counts(st), counts(want))
	}
	if st.Latency.Count != 3 {
		t.Errorf("latency histogram holds %d observations, want 3", st.Latency.Count)
	}
	if open := openFdsUnder(t, mnt); len(open) != 0 {
		t.Errorf("event fds left open: %v", open)
	}
}

// TestExecThreadIDs execs from a thread that does not lead its group: the
// request carries the group's pid and the thread's tid.
func TestExecThreadIDs(t *testing.T) {
	requireRoot(t)
	mnt := testMount(t)
	touch := testutil.CopyExecutable(t, "/bin/touch", filepath.Join(mnt, "touch"))
	rec := &recorder{decide: func(*Request) Verdict { return Verdict{Allow: false} }}
	g := startGuard(t, Config{Decide: rec.Decide, CacheSize: -1})
	if err := g.WatchExecMount(mnt); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "marker")
	out := runThreadExec(t, copyTestBinary(t, "threadexec"), nil, touch, marker)
	pid, tid, result := parseThreadExec(t, out)
	if result != "errno 1" {
		t.Fatalf("helper exec result %q, want errno 1 (EPERM)", result)
	}
	if tid == pid {
		t.Fatalf("helper exec'd from its leader thread (%d)", tid)
	}
	reqs := rec.requests()
	if len(reqs) != 1 || reqs[0].PID != pid || reqs[0].TID != tid || reqs[0].Path != touch {
		t.Fatalf("requests %+v, want one exec of %s with PID %d TID %d", reqs, touch, pid, tid)
	}
	if fileExists(marker) {
		t.Fatal("denied program ran")
	}
}

// TestProtect: events of our own thread group, and of a group passed to
// Protect, never reach the Decider, even one that denies everything.
func TestProtect(t *testing.T) {
	requireRoot(t)
	mnt := testMount(t)
	touch := testutil.CopyExecutable(t, "/bin/touch", filepath.Join(mnt, "touch"))
	secret := filepath.Join(mnt, "secret")
	if err := os.WriteFile(secret, []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{decide: func(*Request) Verdict { return Verdict{Allow: false} }}
	g := startGuard(t, Config{Decide: rec.Decide, CacheSize: -1})
	if err := g.WatchExecMount(mnt); err != nil {
		t.Fatal(err)
	}
	if err := g.WatchOpen(secret); err != nil {
		t.Fatal(err)
	}

	// Our own open, from whichever thread the runtime picks.
	if b, err := os.ReadFile(secret); err != nil || string(b) != "s3cret" {
		t.Fatalf("own read of the watched file: %q, %v", b, err)
	}

	// An exec by a protected process, from a non-leader thread: the same
	// exec that TestExecThreadIDs shows denied.
	marker := filepath.Join(t.TempDir(), "marker")
	var protected uint32
	out := runThreadExec(t, copyTestBinary(t, "threadexec"), func(pid uint32) {
		protected = pid
		g.Protect(pid)
	}, touch, marker)
	pid, tid, result := parseThreadExec(t, out)
	if result != "" || pid != protected || tid == pid {
		t.Fatalf("protected exec: pid %d tid %d result %q (output %q)", pid, tid, result, out)
	}
	if !fileExists(marker) {
		t.Fatal("the protected exec did not run")
	}
	if n := rec.calls(); n != 0 {
		t.Fatalf("Decider called %d times for protected processes: %+v", n, rec.requests())
	}
	st := g.Stats()
	want := Stats{ExecEvents: 1, OpenEvents: 1, Allowed: 2, Protected: 2}
	if !sameCounts(st, want) {
		t.Errorf("stats %+v, want %+v", counts(st), counts(want))
	}

	// Unprotect puts it back under the Decider.
	g.Unprotect(protected)
	if err := exec.Command(touch, marker+"2").Run(); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("exec after Unprotect: %v, want EPERM", err)
	}
}

// runThreadExec starts the threadexec helper, calls before with its pid,
// lets it exec argv and returns its output.
func runThreadExec(t *testing.T, bin string, before func(pid uint32), argv ...string) string {
	t.Helper()
	cmd := exec.Command(bin, argv...)
	cmd.Env = append(os.Environ(), helperEnv+"=threadexec")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	var mu sync.Mutex
	cmd.Stdout = writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return out.Write(p)
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the helper's pid line", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(out.String(), "\n")
	})
	if before != nil {
		before(uint32(cmd.Process.Pid))
	}
	if _, err := stdin.Write([]byte("go\n")); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v (output %q)", err, out.String())
	}
	return out.String()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// parseThreadExec reads "pid P\nexec tid T\n[errno E]".
func parseThreadExec(t *testing.T, out string) (pid, tid uint32, result string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "pid ") || !strings.HasPrefix(lines[1], "exec tid ") {
		t.Fatalf("helper output %q", out)
	}
	pid = uint32(atoi(t, strings.TrimPrefix(lines[0], "pid ")))
	tid = uint32(atoi(t, strings.TrimPrefix(lines[1], "exec tid ")))
	if len(lines) > 2 {
		result = lines[2]
	}
	return pid, tid, result
}
