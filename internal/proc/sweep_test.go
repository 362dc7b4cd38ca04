package proc

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSweepRemovesVanished(t *testing.T) {
	root := fakeTree(t)
	tbl := New()
	if err := tbl.Seed(root); err != nil {
		t.Fatal(err)
	}
	// An event-made entry for a process whose exit we missed, and one with
	// no start time, which can only be checked for existence.
	apply(tbl, forkEvent(700, 1, 900, false))
	ev, _ := execEvent(execSpec{pid: 901, ppid: 1, comm: "x", args: "x"})
	apply(tbl, ev)

	if err := os.RemoveAll(filepath.Join(root, "701")); err != nil {
		t.Fatal(err)
	}
	n, err := tbl.Sweep(root)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || tbl.Stats().Swept != 3 || tbl.Len() != 4 {
		t.Fatalf("swept %d, stats %+v", n, tbl.Stats())
	}
	for _, pid := range []uint32{701, 900, 901} {
		if _, ok := tbl.Get(pid); ok {
			t.Errorf("pid %d survived the sweep", pid)
		}
	}
	if n, _ := tbl.Sweep(root); n != 0 {
		t.Fatalf("second sweep removed %d", n)
	}
}

func TestSweepDetectsReusedPID(t *testing.T) {
	root := fakeTree(t)
	tbl := New()
	if err := tbl.Seed(root); err != nil {
		t.Fatal(err)
	}
	// pid 701 exited unseen and a new process got the pid ten seconds later.
	if err := os.RemoveAll(filepath.Join(root, "701")); err != nil {
		t.Fatal(err)
	}
	writeFakeProc(t, root, fakeProc{pid: 701, ppid: 1, comm: "new", exe: "/new", args: []string{"new"}, start: 7000})
	if n, err := tbl.Sweep(root); err != nil || n != 1 {
		t.Fatalf("swept %d, %v", n, err)
	}
	if _, ok := tbl.Get(701); ok {
		t.Fatal("stale entry for a reused pid survived")
	}
}

func TestSweepKeepsEntryReplacedMeanwhile(t *testing.T) {
	tbl := New()
	ev, _ := execEvent(execSpec{pid: 50, ppid: 1, comm: "a", args: "a"})
	apply(tbl, ev)
	judged := mustGet(t, tbl, 50)
	// Sweep judged the old entry dead, but a fork recreated the pid before
	// the removal.
	apply(tbl, forkEvent(1, 0, 50, false))
	if n := tbl.removeJudged([]Process{judged}); n != 0 {
		t.Fatalf("removed %d", n)
	}
	if p := mustGet(t, tbl, 50); p.PPID != 1 {
		t.Fatalf("wrong entry left: %+v", p)
	}
	if n := tbl.removeJudged([]Process{mustGet(t, tbl, 50)}); n != 1 {
		t.Fatalf("removed %d of an unchanged entry", n)
	}
}

func TestSweepUnreadableRootRemovesNothing(t *testing.T) {
	tbl := New()
	ev, _ := execEvent(execSpec{pid: 50, ppid: 1, comm: "a", args: "a"})
	apply(tbl, ev)
	if _, err := tbl.Sweep(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("no error")
	}
	if tbl.Len() != 1 {
		t.Fatal("entry removed although /proc could not be read")
	}
}

func TestSweepRealProcKeepsLiveProcesses(t *testing.T) {
	tbl := New()
	if err := tbl.Seed("/proc"); err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.Sweep("/proc"); err != nil {
		t.Fatal(err)
	}
	if _, ok := tbl.Get(uint32(os.Getpid())); !ok {
		t.Fatal("sweep removed this very process")
	}
	if _, ok := tbl.Get(1); !ok {
		t.Fatal("sweep removed init")
	}
}

func TestSameStart(t *testing.T) {
	const off = 3_000_000_000 // three seconds suspended so far
	cases := []struct {
		mono, ticks uint64
		want        bool
	}{
		{0, 100, true},                          // unknown start
		{5_000_000_000, 0, true},                // unknown ticks
		{5_000_000_000, 500, true},              // same instant, never suspended since
		{5_000_000_000, 500 + 300, true},        // started before the suspend
		{5_004_000_000, 500, true},              // tick rounding and fork latency
		{5_000_000_000, 500 + 300 + 100, false}, // later than any suspend explains
		{9_000_000_000, 500, false},             // earlier than recorded
	}
	for _, c := range cases {
		if got := sameStart(c.mono, c.ticks, off); got != c.want {
			t.Errorf("sameStart(%d, %d) = %v", c.mono, c.ticks, got)
		}
	}
	if monotonicStart(500, off) != 2_000_000_000 || monotonicStart(100, off) != 0 || monotonicStart(0, 0) != 0 {
		t.Fatal("monotonicStart")
	}
}
