package proc

import (
	"testing"

	"github.com/vigilsec/vigil/internal/event"
)

// chain builds 1 <- 10 <- 20 <- ... <- n*10.
func chain(n int) *Table {
	tbl := New()
	ppid := uint32(0)
	for i := 0; i <= n; i++ {
		pid := uint32(i * 10)
		if i == 0 {
			pid = 1
		}
		ev, _ := execEvent(execSpec{pid: pid, ppid: ppid, comm: "p", args: "p"})
		apply(tbl, ev)
		ppid = pid
	}
	return tbl
}

func pids(ps []Process) []uint32 {
	out := make([]uint32, len(ps))
	for i, p := range ps {
		out[i] = p.PID
	}
	return out
}

func TestAncestorsReachInit(t *testing.T) {
	tbl := chain(3)
	got := pids(tbl.AppendAncestors(nil, 30, 0))
	want := []uint32{20, 10, 1}
	if len(got) != len(want) || got[0] != 20 || got[1] != 10 || got[2] != 1 {
		t.Fatalf("ancestors %v want %v", got, want)
	}
	if n := tbl.Ancestors(1, 0, func(Process) bool { return true }); n != 0 {
		t.Fatalf("init has %d ancestors", n)
	}
}

func TestAncestorsStopAtInitEvenIfItHasAParent(t *testing.T) {
	tbl := chain(2)
	ev, _ := execEvent(execSpec{pid: 1, ppid: 99, comm: "init", args: "init"})
	apply(tbl, ev)
	ev, _ = execEvent(execSpec{pid: 99, ppid: 0, comm: "outside", args: "x"})
	apply(tbl, ev)
	if got := pids(tbl.AppendAncestors(nil, 20, 0)); len(got) != 2 || got[1] != 1 {
		t.Fatalf("walked past init: %v", got)
	}
}

func TestAncestorsLimits(t *testing.T) {
	tbl := chain(200)
	if n := len(tbl.AppendAncestors(nil, 2000, 0)); n != DefaultMaxDepth {
		t.Fatalf("default depth walked %d", n)
	}
	if n := len(tbl.AppendAncestors(nil, 2000, 5)); n != 5 {
		t.Fatalf("max 5 walked %d", n)
	}
	if n := len(tbl.AppendAncestors(nil, 2000, 1000)); n != maxDepthLimit {
		t.Fatalf("huge max walked %d", n)
	}
	calls := 0
	tbl.Ancestors(2000, 0, func(Process) bool { calls++; return calls < 3 })
	if calls != 3 {
		t.Fatalf("fn returning false did not stop the walk: %d calls", calls)
	}
	if n := len(tbl.AppendAncestors(nil, 12345, 0)); n != 0 {
		t.Fatalf("unknown pid has %d ancestors", n)
	}
}

func TestAncestorsMissingParent(t *testing.T) {
	tbl := chain(3)
	// 20 claims a parent the table never knew.
	open := event.New()
	open.Kind, open.PID, open.PPID = event.KindOpen, 20, 77
	apply(tbl, open)
	if got := pids(tbl.AppendAncestors(nil, 30, 0)); len(got) != 1 || got[0] != 20 {
		t.Fatalf("ancestors across a missing parent: %v", got)
	}
}

func TestAncestorsThroughExitedParent(t *testing.T) {
	tbl := chain(3)
	apply(tbl, exitEvent(20, 10)) // 30's parent is gone, 30's events may still be in flight
	if got := pids(tbl.AppendAncestors(nil, 30, 0)); len(got) != 3 || got[0] != 20 || got[2] != 1 {
		t.Fatalf("ancestors through an exited parent: %v", got)
	}
	// An event of the exited process itself still has its ancestry.
	if got := pids(tbl.AppendAncestors(nil, 20, 0)); len(got) != 2 || got[0] != 10 {
		t.Fatalf("ancestors of an exited process: %v", got)
	}
}

func TestAncestorsLoop(t *testing.T) {
	tbl := New()
	for _, e := range [][2]uint32{{5, 6}, {6, 7}, {7, 5}} {
		ev, _ := execEvent(execSpec{pid: e[0], ppid: e[1], comm: "l", args: "l"})
		apply(tbl, ev)
	}
	got := pids(tbl.AppendAncestors(nil, 5, 0))
	if len(got) != 2 || got[0] != 6 || got[1] != 7 {
		t.Fatalf("loop walked %v", got)
	}
	// A process that names itself as its parent.
	ev, _ := execEvent(execSpec{pid: 8, ppid: 8, comm: "s", args: "s"})
	apply(tbl, ev)
	if got := tbl.AppendAncestors(nil, 8, 0); len(got) != 0 {
		t.Fatalf("self loop walked %v", pids(got))
	}
}
