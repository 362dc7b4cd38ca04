package proc

import (
	"testing"
)

func TestExitedRemembersTheDead(t *testing.T) {
	tbl := New()
	ev, _ := execEvent(execSpec{pid: 100, ppid: 1, comm: "sh", exe: "/bin/sh", args: "sh\x00-c\x00x"})
	apply(tbl, ev)
	apply(tbl, exitEvent(100, 1))

	if _, ok := tbl.Get(100); ok || tbl.Len() != 0 {
		t.Fatal("exited process still live")
	}
	p, ok := tbl.Exited(100)
	if !ok || p.Exe != "/bin/sh" || p.PPID != 1 {
		t.Fatalf("Exited(100) = %+v, %v", p, ok)
	}
	if p, ok := tbl.Exited(101); ok || p.Image == nil {
		t.Fatalf("Exited(101) = %+v, %v", p, ok)
	}
	if _, ok := tbl.Exited(0); ok {
		t.Fatal("Exited(0) found something")
	}
}

// TestForkFromExitedParent covers a fork applied after its parent's exit,
// which happens when the two are handled by different workers.
func TestForkFromExitedParent(t *testing.T) {
	tbl := New()
	ev, _ := execEvent(execSpec{pid: 100, ppid: 1, comm: "daemon", exe: "/usr/sbin/daemon", args: "daemon", cgroup: 5})
	apply(tbl, ev)
	apply(tbl, exitEvent(100, 1))
	apply(tbl, forkEvent(100, 1, 101, false))
	p := mustGet(t, tbl, 101)
	if p.Exe != "/usr/sbin/daemon" || p.PPID != 100 || p.CgroupID != 5 {
		t.Fatalf("child of an exited parent: %+v %+v", p, *p.Image)
	}
}

func TestGraveyardIsBounded(t *testing.T) {
	tbl := New()
	// Every pid here lands in shard 5; only the newest graveSlots survive.
	for k := 1; k <= 1000; k++ {
		ev, _ := execEvent(execSpec{pid: pidIn(k), ppid: 1, comm: "x", args: "x"})
		apply(tbl, ev)
		apply(tbl, exitEvent(pidIn(k), 1))
	}
	if tbl.Len() != 0 {
		t.Fatalf("Len %d", tbl.Len())
	}
	for k := 1; k <= 1000; k++ {
		_, ok := tbl.Exited(pidIn(k))
		if want := k > 1000-graveSlots; ok != want {
			t.Fatalf("Exited(%d) = %v, want %v", k, ok, want)
		}
	}
}

func TestExitedPrefersLatestLife(t *testing.T) {
	tbl := New()
	for _, comm := range []string{"first", "second"} {
		ev, _ := execEvent(execSpec{pid: 42, ppid: 1, comm: comm, args: comm})
		apply(tbl, ev)
		apply(tbl, exitEvent(42, 1))
	}
	if p, _ := tbl.Exited(42); p.Comm != "second" {
		t.Fatalf("Exited(42) = %q", p.Comm)
	}
}
