package proc

import (
	"testing"
	"unsafe"

	"github.com/vigilsec/vigil/internal/event"
)

// viewStrings copies ss into ev's private buffer and returns strings that
// point into it, the way the decoder fills events, plus the buffer so a test
// can scribble over it to prove nothing kept a view.
func viewStrings(ev *event.Event, ss ...string) ([]string, []byte) {
	n := 0
	for _, s := range ss {
		n += len(s)
	}
	buf := ev.Buffer(n)
	out := make([]string, len(ss))
	for i, s := range ss {
		start := len(buf)
		buf = append(buf, s...)
		if len(s) > 0 {
			out[i] = unsafe.String(&buf[start], len(s))
		}
	}
	ev.SetBuffer(buf)
	return out, buf
}

func forkEvent(parent, ppid, child uint32, thread bool) *event.Event {
	ev := event.New()
	ev.Kind = event.KindFork
	ev.PID, ev.TID, ev.PPID = parent, parent, ppid
	ev.Timestamp = uint64(child) * 1000
	ev.Fork = event.Fork{ChildPID: child, ChildTID: child, IsThread: thread}
	if thread {
		ev.Fork.ChildPID = parent
	}
	return ev
}

type execSpec struct {
	pid, ppid            uint32
	comm, exe, args, cwd string
	uid                  uint32
	cgroup               uint64
}

// execEvent builds a successful exec whose strings are views into the
// event's buffer; it returns the buffer too.
func execEvent(s execSpec) (*event.Event, []byte) {
	ev := event.New()
	ev.Kind = event.KindExec
	ev.PID, ev.TID, ev.PPID = s.pid, s.pid, s.ppid
	ev.Timestamp = 42
	ev.CgroupID = s.cgroup
	v, buf := viewStrings(ev, s.comm, s.exe, s.args, s.cwd, s.exe)
	ev.Comm = v[0]
	ev.Exec = event.Exec{
		Exe: v[1], Args: v[2], Cwd: v[3], Filename: v[4],
		UID: s.uid, GID: s.uid, EUID: s.uid, EGID: s.uid,
		LoginUID: 1000, TTY: 34816, SID: s.ppid, PGID: s.pid,
		CapEffective: 0x1ff, CapPermitted: 0x3ff, MntNS: 4026531841,
		Flags: event.ExecUpperLayer,
	}
	return ev, buf
}

func exitEvent(pid, ppid uint32) *event.Event {
	ev := event.New()
	ev.Kind = event.KindExit
	ev.PID, ev.TID, ev.PPID = pid, pid, ppid
	return ev
}

// apply applies and releases, as the pipeline does.
func apply(t *Table, ev *event.Event) {
	t.Apply(ev)
	ev.Release()
}

func mustGet(tb testing.TB, t *Table, pid uint32) Process {
	tb.Helper()
	p, ok := t.Get(pid)
	if !ok {
		tb.Fatalf("pid %d missing", pid)
	}
	return p
}
