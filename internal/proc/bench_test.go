package proc

import (
	"testing"

	"github.com/vigilsec/vigil/internal/event"
)

// benchTable holds a process tree ten levels deep plus a thousand leaves.
func benchTable(b *testing.B) *Table {
	tbl := New()
	ppid := uint32(0)
	for pid := uint32(1); pid <= 10; pid++ {
		ev, _ := execEvent(execSpec{pid: pid, ppid: ppid, comm: "sh", exe: "/bin/sh", args: "sh\x00-c\x00x", cwd: "/"})
		apply(tbl, ev)
		ppid = pid
	}
	for pid := uint32(1000); pid < 2000; pid++ {
		ev, _ := execEvent(execSpec{pid: pid, ppid: 10, comm: "w", exe: "/bin/w", args: "w", cwd: "/"})
		apply(tbl, ev)
	}
	return tbl
}

func BenchmarkApplyExec(b *testing.B) {
	tbl := benchTable(b)
	// Alternate two programs so every exec really changes the image, as
	// a shell's fork+exec does.
	ls, _ := execEvent(execSpec{pid: 1500, ppid: 10, comm: "ls", exe: "/usr/bin/ls", args: "ls\x00-la\x00/var/log", cwd: "/"})
	cat, _ := execEvent(execSpec{pid: 1500, ppid: 10, comm: "cat", exe: "/usr/bin/cat", args: "cat\x00/etc/passwd", cwd: "/"})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i&1 == 0 {
			tbl.Apply(ls)
		} else {
			tbl.Apply(cat)
		}
	}
}

func BenchmarkApplyForkExit(b *testing.B) {
	tbl := benchTable(b)
	fork := forkEvent(10, 9, 5000, false)
	exit := exitEvent(5000, 10)
	b.ReportAllocs()
	for b.Loop() {
		tbl.Apply(fork)
		tbl.Apply(exit)
	}
}

func BenchmarkApplyOpen(b *testing.B) {
	tbl := benchTable(b)
	ev := event.New()
	ev.Kind = event.KindOpen
	ev.PID, ev.PPID = 1500, 10
	b.ReportAllocs()
	for b.Loop() {
		tbl.Apply(ev)
	}
}

func BenchmarkGet(b *testing.B) {
	tbl := benchTable(b)
	b.ReportAllocs()
	var n int
	for i := 0; b.Loop(); i++ {
		if p, ok := tbl.Get(1000 + uint32(i%1000)); ok {
			n += len(p.Comm)
		}
	}
	_ = n
}

func BenchmarkGetParallel(b *testing.B) {
	tbl := benchTable(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := uint32(0)
		for pb.Next() {
			tbl.Get(1000 + i%1000)
			i++
		}
	})
}

func BenchmarkAncestors(b *testing.B) {
	tbl := benchTable(b)
	b.ReportAllocs()
	var uids uint32
	for b.Loop() {
		tbl.Ancestors(1500, 0, func(p Process) bool { // 10 levels up to pid 1
			uids += p.UID
			return true
		})
	}
	_ = uids
}

func BenchmarkAppendAncestors(b *testing.B) {
	tbl := benchTable(b)
	buf := make([]Process, 0, DefaultMaxDepth)
	b.ReportAllocs()
	for b.Loop() {
		buf = tbl.AppendAncestors(buf[:0], 1500, 0)
	}
}
