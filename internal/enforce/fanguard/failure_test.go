package fanguard

import (
	"errors"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/testutil"
)

// failures collects OnFailure reports.
type failures struct {
	mu   sync.Mutex
	list []Failure
}

func (f *failures) add(x Failure) {
	f.mu.Lock()
	f.list = append(f.list, x)
	f.mu.Unlock()
}

func (f *failures) get() []Failure {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Failure(nil), f.list...)
}

// blockingDecider blocks every call until release is closed, and tells
// entered about each call.
type blockingDecider struct {
	entered chan *Request
	release chan struct{}
	verdict Verdict
}

func newBlockingDecider(v Verdict) *blockingDecider {
	return &blockingDecider{entered: make(chan *Request, 16), release: make(chan struct{}), verdict: v}
}

func (b *blockingDecider) Decide(r *Request) Verdict {
	b.entered <- r
	<-b.release
	return b.verdict
}

// TestTimeoutFailOpen: a Decider that does not answer in time leaves the exec
// allowed (the default policy), reports the timeout, and its late deny is
// discarded rather than written a second time.
func TestTimeoutFailOpen(t *testing.T) {
	requireRoot(t)
	mnt := testMount(t)
	bin := testutil.CopyExecutable(t, "/bin/touch", filepath.Join(mnt, "touch"))
	dec := newBlockingDecider(Verdict{Allow: false, Cacheable: true})
	var fails failures
	g := startGuard(t, Config{Decide: dec.Decide, Timeout: 50 * time.Millisecond, OnFailure: fails.add})
	if err := g.WatchExecMount(mnt); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "marker")
	if err := exec.Command(bin, marker).Run(); err != nil {
		t.Fatalf("exec with a stuck Decider: %v, want it allowed", err)
	}
	if !fileExists(marker) {
		t.Fatal("program did not run")
	}
	close(dec.release)
	waitFor(t, "the late decision", func() bool { return g.Stats().LateDecisions == 1 })
	waitFor(t, "the failure report", func() bool { return len(fails.get()) == 1 })
	f := fails.get()[0]
	if f.Reason != Timeout || !f.Allowed || f.Request == nil || f.Request.Path != bin || f.Request.Kind != Exec {
		t.Errorf("failure = %+v (request %+v), want a timeout on %s answered allow", f, f.Request, bin)
	}
	st := g.Stats()
	want := Stats{ExecEvents: 1, Allowed: 1, FailOpen: 1, Timeouts: 1, LateDecisions: 1}
	if !sameCounts(st, want) {
		t.Errorf("stats %+v, want %+v", counts(st), counts(want))
	}
	// The late verdict was cacheable but must not be cached.
	if n := g.cache.len(); n != 0 {
		t.Errorf("late verdict cached (%d entries)", n)
	}
}

// TestTimeoutFailClosed: with FailClosed the same stuck Decider denies.
func TestTimeoutFailClosed(t *testing.T) {
	requireRoot(t)
	mnt := testMount(t)
	bin := testutil.CopyExecutable(t, "/bin/touch", filepath.Join(mnt, "touch"))
	dec := newBlockingDecider(Verdict{Allow: true})
	var fails failures
	g := startGuard(t, Config{Decide: dec.Decide, Timeout: 50 * time.Millisecond, FailClosed: true, OnFailure: fails.add})
	if err := g.WatchExecMount(mnt); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "marker")
	if err := exec.Command(bin, marker).Run(); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("exec with a stuck Decider, fail-closed: %v, want EPERM", err)
	}
	if fileExists(marker) {
		t.Fatal("program ran")
	}
	close(dec.release)
	waitFor(t, "the late decision", func() bool { return g.Stats().LateDecisions == 1 })
	waitFor(t, "the failure report", func() bool { return len(fails.get()) == 1 })
	if f := fails.get()[0]; f.Reason != Timeout || f.Allowed {
		t.Errorf("failure = %+v, want a timeout answered deny", f)
	}
	st := g.Stats()
	want := Stats{ExecEvents: 1, Denied: 1, FailClosed: 1, Timeouts: 1, LateDecisions: 1}
	if !sameCounts(st, want) {
		t.Errorf("stats %+v, want %+v", counts(st), counts(want))
	}
}

// TestDeciderPanic: a panicking Decider is recovered, the exec allowed.
func TestDeciderPanic(t *testing.T) {
	requireRoot(t)
	mnt := testMount(t)
	bin := testutil.CopyExecutable(t, "/bin/touch", filepath.Join(mnt, "touch"))
	var fails failures
	g := startGuard(t, Config{Decide: func(*Request) Verdict { panic("rule engine bug") }, OnFailure: fails.add})
	if err := g.WatchExecMount(mnt); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "marker")
	if err := exec.Command(bin, marker).Run(); err != nil {
		t.Fatalf("exec with a panicking Decider: %v", err)
	}
	waitFor(t, "the failure report", func() bool { return len(fails.get()) == 1 })
	if f := fails.get()[0]; f.Reason != DeciderPanic || !f.Allowed || f.Err == nil || f.Request.Path != bin {
		t.Errorf("failure = %+v, want a decider panic answered allow", f)
	}
	st := g.Stats()
	want := Stats{ExecEvents: 1, Allowed: 1, FailOpen: 1, DeciderPanics: 1}
	if !sameCounts(st, want) {
		t.Errorf("stats %+v, want %+v", counts(st), counts(want))
	}
}

// TestQueueFull: with the one worker busy and the one queue slot taken, the
// next event is answered at once by the policy and counted as a drop.
func TestQueueFull(t *testing.T) {
	requireRoot(t)
	mnt := testMount(t)
	bin := testutil.CopyExecutable(t, "/bin/touch", filepath.Join(mnt, "touch"))
	dec := newBlockingDecider(Verdict{Allow: true})
	var fails failures
	g := startGuard(t, Config{Decide: dec.Decide, Workers: 1, QueueLen: 1, Timeout: time.Minute, CacheSize: -1, OnFailure: fails.add})
	if err := g.WatchExecMount(mnt); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	errs := make(chan error, 2)
	for i, name := range []string{"a", "b"} {
		// Through sh: two execs held by the Decider straight from this
		// process would hold both Ps in vfork (see TestMain).
		go func() { errs <- shExec(bin, filepath.Join(out, name)).Run() }()
		if i == 0 {
			<-dec.entered // the worker holds the first
		}
		waitFor(t, "the event read", func() bool { return g.Stats().ExecEvents == uint64(i+1) })
	}
	if err := exec.Command(bin, filepath.Join(out, "c")).Run(); err != nil {
		t.Fatalf("exec past a full queue: %v, want it allowed", err)
	}
	close(dec.release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("queued exec: %v", err)
		}
	}
	waitFor(t, "both decisions", func() bool { return g.Stats().Decided == 2 })
	if f := fails.get(); len(f) != 1 || f[0].Reason != QueueFull || !f[0].Allowed {
		t.Errorf("failures %+v, want one queue_full", f)
	}
	st := g.Stats()
	want := Stats{ExecEvents: 3, Allowed: 3, Decided: 2, FailOpen: 1, QueueDrops: 1}
	if !sameCounts(st, want) {
		t.Errorf("stats %+v, want %+v", counts(st), counts(want))
	}
}

// TestCloseAnswersPending: Close lets an exec stuck on a Decider through,
// removes the marks, and the late Decider result writes nothing.
func TestCloseAnswersPending(t *testing.T) {
	requireRoot(t)
	mnt := testMount(t)
	bin := testutil.CopyExecutable(t, "/bin/touch", filepath.Join(mnt, "touch"))
	dec := newBlockingDecider(Verdict{Allow: false})
	g := startGuard(t, Config{Decide: dec.Decide, Timeout: time.Hour})
	if err := g.WatchExecMount(mnt); err != nil {
		t.Fatal(err)
	}
	// Not g.file.Fd(): that would switch the fd to blocking mode.
	var fd int
	if err := g.withFd(func(n int) error { fd = n; return nil }); err != nil {
		t.Fatal(err)
	}
	if info := fdinfo(t, fd); !containsLine(info, "fanotify mnt_id:") {
		t.Fatalf("no mount mark in fdinfo:\n%s", info)
	}
	marker := filepath.Join(t.TempDir(), "marker")
	done := make(chan error, 1)
	go func() { done <- exec.Command(bin, marker).Run() }()
	<-dec.entered
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("exec pending at Close: %v, want it allowed", err)
	}
	if !fileExists(marker) {
		t.Fatal("program did not run")
	}
	if err := g.WatchExecMount(mnt); err == nil {
		t.Error("WatchExecMount after Close succeeded")
	}
	// The group is gone, and with it the marks: a fresh exec is not seen.
	if isFanotify(t, fd) {
		t.Error("fanotify fd still open after Close")
	}
	if err := exec.Command(bin, marker+"2").Run(); err != nil {
		t.Fatalf("exec after Close: %v", err)
	}
	close(dec.release)
	waitFor(t, "the late decision", func() bool { return g.Stats().LateDecisions == 1 })
	st := g.Stats()
	want := Stats{ExecEvents: 1, Allowed: 1, ClosedAllowed: 1, LateDecisions: 1}
	if !sameCounts(st, want) {
		t.Errorf("stats %+v, want %+v", counts(st), counts(want))
	}
	if open := openFdsUnder(t, mnt); len(open) != 0 {
		t.Errorf("event fds left open: %v", open)
	}
}
