package proc

import (
	"slices"
	"testing"

	"github.com/vigilsec/vigil/internal/event"
)

func TestExecCreatesEntryAndCopiesStrings(t *testing.T) {
	tbl := New()
	ev, buf := execEvent(execSpec{pid: 100, ppid: 1, comm: "bash", exe: "/usr/bin/bash",
		args: "bash\x00-c\x00echo hi", cwd: "/root", uid: 1000, cgroup: 77})
	tbl.Apply(ev)
	for i := range buf {
		buf[i] = 'X' // the decoder reuses the buffer for the next record
	}
	ev.Release()

	p := mustGet(t, tbl, 100)
	if p.Comm != "bash" || p.Exe != "/usr/bin/bash" || p.Cwd != "/root" || p.Args != "bash\x00-c\x00echo hi" {
		t.Fatalf("strings not copied: %+v", *p.Image)
	}
	if got := p.Argv(); !slices.Equal(got, []string{"bash", "-c", "echo hi"}) {
		t.Fatalf("Argv = %q", got)
	}
	if p.PPID != 1 || p.CgroupID != 77 || p.UID != 1000 || p.EUID != 1000 || p.LoginUID != 1000 ||
		p.TTY != 34816 || p.SID != 1 || p.PGID != 100 || p.CapEffective != 0x1ff ||
		p.CapPermitted != 0x3ff || p.MntNS != 4026531841 || p.Flags != event.ExecUpperLayer ||
		p.ExecTime != 42 || p.Seeded || p.Serial == 0 {
		t.Fatalf("fields not taken from exec: %+v %+v", p, *p.Image)
	}
	if s := tbl.Stats(); s.Created != 1 || s.Execs != 1 || s.Entries != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestExecReplacesImageButKeepsIdentity(t *testing.T) {
	tbl := New()
	ev, _ := execEvent(execSpec{pid: 100, ppid: 1, comm: "sh", exe: "/bin/sh", args: "sh", cwd: "/"})
	apply(tbl, ev)
	before := mustGet(t, tbl, 100)

	ev, _ = execEvent(execSpec{pid: 100, ppid: 1, comm: "ls", exe: "/bin/ls", args: "ls\x00-l", cwd: "/"})
	apply(tbl, ev)
	after := mustGet(t, tbl, 100)

	if before.Comm != "sh" || before.Exe != "/bin/sh" {
		t.Fatalf("a published snapshot changed: %+v", *before.Image)
	}
	if after.Comm != "ls" || after.Args != "ls\x00-l" || after.Serial != before.Serial {
		t.Fatalf("after exec: %+v serial %d want %d", *after.Image, after.Serial, before.Serial)
	}
	if s := tbl.Stats(); s.Created != 1 || s.Execs != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestFailedExecChangesNothing(t *testing.T) {
	tbl := New()
	ev, _ := execEvent(execSpec{pid: 100, ppid: 1, comm: "sh", exe: "/bin/sh", args: "sh", cwd: "/"})
	apply(tbl, ev)

	ev, _ = execEvent(execSpec{pid: 100, ppid: 1, comm: "sh", exe: "", args: "nope", cwd: "/tmp"})
	ev.Ret = -2 // ENOENT
	apply(tbl, ev)
	ev, _ = execEvent(execSpec{pid: 200, ppid: 1, comm: "x", args: "x"})
	ev.Ret = -13
	apply(tbl, ev)

	if p := mustGet(t, tbl, 100); p.Exe != "/bin/sh" || p.Args != "sh" || p.Cwd != "/" {
		t.Fatalf("failed exec changed the entry: %+v", *p.Image)
	}
	if _, ok := tbl.Get(200); ok {
		t.Fatal("failed exec created an entry")
	}
}

func TestForkCopiesParentIdentity(t *testing.T) {
	tbl := New()
	ev, _ := execEvent(execSpec{pid: 100, ppid: 1, comm: "nginx", exe: "/usr/sbin/nginx",
		args: "nginx\x00-g\x00daemon off;", cwd: "/srv", uid: 33, cgroup: 9})
	apply(tbl, ev)
	parent := mustGet(t, tbl, 100)

	apply(tbl, forkEvent(100, 1, 101, false))
	child := mustGet(t, tbl, 101)
	if child.PID != 101 || child.PPID != 100 || child.StartTime != 101000 {
		t.Fatalf("child %+v", child)
	}
	if child.Image != parent.Image || child.CgroupID != 9 {
		t.Fatalf("child does not share the parent's identity: %+v", child)
	}
	if child.Serial == parent.Serial || child.Seeded {
		t.Fatalf("child identity: serial %d parent %d", child.Serial, parent.Serial)
	}
}

func TestForkReplacesStaleEntry(t *testing.T) {
	tbl := New()
	ev, _ := execEvent(execSpec{pid: 100, ppid: 1, comm: "init", exe: "/sbin/init", args: "init"})
	apply(tbl, ev)
	// pid 300 is left over from a process whose exit was lost.
	ev, _ = execEvent(execSpec{pid: 300, ppid: 55, comm: "old", exe: "/old", args: "old"})
	apply(tbl, ev)
	stale := mustGet(t, tbl, 300)

	apply(tbl, forkEvent(100, 1, 300, false))
	p := mustGet(t, tbl, 300)
	if p.Comm != "init" || p.PPID != 100 || p.Serial == stale.Serial {
		t.Fatalf("stale entry not replaced: %+v %+v", p, *p.Image)
	}
}

func TestThreadForkCreatesNothing(t *testing.T) {
	tbl := New()
	ev, _ := execEvent(execSpec{pid: 100, ppid: 1, comm: "java", exe: "/usr/bin/java", args: "java"})
	apply(tbl, ev)
	ev = forkEvent(100, 1, 100, true)
	ev.Fork.ChildTID = 107
	apply(tbl, ev)
	if tbl.Len() != 1 {
		t.Fatalf("Len = %d after a thread fork", tbl.Len())
	}
	if _, ok := tbl.Get(107); ok {
		t.Fatal("thread got an entry")
	}
}

func TestForkWithUnknownParent(t *testing.T) {
	tbl := New()
	ev := forkEvent(500, 1, 501, false)
	v, _ := viewStrings(ev, "cron")
	ev.Comm = v[0]
	ev.CgroupID = 12
	apply(tbl, ev)
	p := mustGet(t, tbl, 501)
	if p.Comm != "cron" || p.Exe != "" || p.PPID != 500 || p.LoginUID != NoLoginUID || p.CgroupID != 12 {
		t.Fatalf("child of unknown parent: %+v %+v", p, *p.Image)
	}
	if _, ok := tbl.Get(500); ok {
		t.Fatal("unknown parent got an entry from a fork")
	}
}

func TestBadForksAreIgnored(t *testing.T) {
	tbl := New()
	apply(tbl, forkEvent(100, 1, 0, false))
	apply(tbl, forkEvent(100, 1, 100, false))
	tbl.Apply(nil)
	if tbl.Len() != 0 {
		t.Fatalf("Len = %d", tbl.Len())
	}
}

func TestExitRemovesEntry(t *testing.T) {
	tbl := New()
	ev, _ := execEvent(execSpec{pid: 100, ppid: 1, comm: "a", args: "a"})
	apply(tbl, ev)
	apply(tbl, exitEvent(100, 1))
	apply(tbl, exitEvent(100, 1)) // a duplicate is harmless
	if _, ok := tbl.Get(100); ok || tbl.Len() != 0 {
		t.Fatal("exit did not remove the entry")
	}
	if s := tbl.Stats(); s.Exited != 1 {
		t.Fatalf("Exited = %d", s.Exited)
	}
}

func TestEventsRefreshParentAndCgroup(t *testing.T) {
	tbl := New()
	ev, _ := execEvent(execSpec{pid: 100, ppid: 50, comm: "a", args: "a", cgroup: 3})
	apply(tbl, ev)
	serial := mustGet(t, tbl, 100).Serial

	open := event.New()
	open.Kind = event.KindOpen
	open.PID, open.PPID, open.CgroupID = 100, 1, 4 // parent died, moved cgroup
	apply(tbl, open)
	if p := mustGet(t, tbl, 100); p.PPID != 1 || p.CgroupID != 4 || p.Serial != serial {
		t.Fatalf("not refreshed: %+v", p)
	}

	sparse := event.New()
	sparse.Kind = event.KindSocket
	sparse.PID = 100 // PPID and cgroup not reported
	apply(tbl, sparse)
	if p := mustGet(t, tbl, 100); p.PPID != 1 || p.CgroupID != 4 {
		t.Fatalf("zero values overwrote the entry: %+v", p)
	}
}

func TestGetMissHasUsableImage(t *testing.T) {
	p, ok := New().Get(9)
	if ok || p.Image == nil || p.Comm != "" || p.LoginUID != NoLoginUID || p.Argv() != nil {
		t.Fatalf("miss: %+v ok=%v", p, ok)
	}
}

func TestSerialsAreUnique(t *testing.T) {
	tbl := New()
	seen := map[uint64]bool{}
	for pid := uint32(1); pid < 500; pid++ {
		ev, _ := execEvent(execSpec{pid: pid, comm: "x", args: "x"})
		apply(tbl, ev)
		s := mustGet(t, tbl, pid).Serial
		if seen[s] {
			t.Fatalf("serial %d reused", s)
		}
		seen[s] = true
	}
}

func TestInvalidPIDsAreRefused(t *testing.T) {
	tbl := New()
	ev, _ := execEvent(execSpec{pid: 64, ppid: 1, comm: "ok", args: "ok"})
	apply(tbl, ev) // shares shard 0 with pid 0
	for _, pid := range []uint32{0, 1<<32 - 1} {
		ev, _ := execEvent(execSpec{pid: pid, ppid: 1, comm: "bad", args: "bad"})
		apply(tbl, ev)
		apply(tbl, forkEvent(64, 1, pid, false))
		apply(tbl, exitEvent(pid, 1))
		if _, ok := tbl.Get(pid); ok {
			t.Fatalf("pid %#x stored", pid)
		}
	}
	if p := mustGet(t, tbl, 64); p.Comm != "ok" || tbl.Len() != 1 {
		t.Fatalf("table disturbed: len %d, %+v", tbl.Len(), *p.Image)
	}
	if s := tbl.Stats(); s.Created != 1 || s.Exited != 0 {
		t.Fatalf("stats %+v", s)
	}
}
