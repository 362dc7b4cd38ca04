package proc

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/syscalls"
)

// Event builders for the fd table tests. Timestamps come from a clock the
// test advances, so that version history behaves as with real events.

type fdClock struct{ now uint64 }

func (c *fdClock) tick() uint64 { c.now += 1000; return c.now }

func (c *fdClock) sys(pid uint32, name string, ret int64, args ...uint64) *event.Event {
	nr, ok := syscalls.Number(name)
	if !ok {
		panic("no syscall " + name)
	}
	ev := event.New()
	ev.Kind, ev.Syscall, ev.PID, ev.TID, ev.Ret, ev.Timestamp = event.KindSyscall, nr, pid, pid, ret, c.tick()
	copy(ev.Sys.Args[:], args)
	spec, _ := syscalls.SpecFor(name)
	n := 0
	for i, a := range spec.Args {
		if a.Slot != syscalls.SlotNone && n < len(ev.Sys.Slots) {
			ev.Sys.Slots[n] = event.Slot{Index: uint8(i), Type: event.SlotType(a.Slot)}
			n++
		}
	}
	return ev
}

// pair fills the FDPAIR slot of a pipe or socketpair event.
func pair(ev *event.Event, r, w int32) *event.Event {
	var b [8]byte
	binary.LittleEndian.PutUint32(b[:], uint32(r))
	binary.LittleEndian.PutUint32(b[4:], uint32(w))
	for i := range ev.Sys.Slots {
		if ev.Sys.Slots[i].Type == event.SlotType(syscalls.SlotFDPair) {
			ev.Sys.Slots[i].Value = string(b[:])
		}
	}
	return ev
}

func (c *fdClock) open(pid uint32, path string, flags uint32, ret int64) *event.Event {
	ev := event.New()
	nr, _ := syscalls.Number("openat")
	ev.Kind, ev.Syscall, ev.PID, ev.TID, ev.Ret, ev.Timestamp = event.KindOpen, nr, pid, pid, ret, c.tick()
	v, _ := viewStrings(ev, path)
	ev.Open = event.Open{Path: v[0], RawPath: v[0], DirFD: -100, Flags: flags}
	return ev
}

func (c *fdClock) sock(pid uint32, op event.SocketOp, fd int32, ret int64, local, remote string) *event.Event {
	names := map[event.SocketOp]string{event.OpConnect: "connect", event.OpAccept: "accept4", event.OpBind: "bind", event.OpListen: "listen"}
	nr, _ := syscalls.Number(names[op])
	ev := event.New()
	ev.Kind, ev.Syscall, ev.PID, ev.TID, ev.Ret, ev.Timestamp = event.KindSocket, nr, pid, pid, ret, c.tick()
	ev.Socket = event.Socket{Op: op, FD: fd, Family: unix.AF_INET, Type: sockStream, Protocol: ipprotoTCP}
	if local != "" {
		ev.Socket.Local = netip.MustParseAddrPort(local)
	}
	if remote != "" {
		ev.Socket.Remote = netip.MustParseAddrPort(remote)
	}
	return ev
}

func (c *fdClock) exec(pid, ppid uint32) *event.Event {
	ev, _ := execEvent(execSpec{pid: pid, ppid: ppid, comm: "sh", exe: "/bin/sh", args: "sh", cwd: "/"})
	ev.Timestamp = c.tick()
	return ev
}

func (c *fdClock) fork(parent, child uint32) *event.Event {
	ev := forkEvent(parent, 1, child, false)
	ev.Timestamp = c.tick()
	return ev
}

// fds returns pid's current fd table.
func fds(tb testing.TB, t *Table, pid uint32) FDSet {
	tb.Helper()
	return mustGet(tb, t, pid).Files.Current()
}

// wantFD checks one fd's type, name and close-on-exec bit.
func wantFD(tb testing.TB, s FDSet, fd int32, typ FDType, name string, cloexec bool) *FD {
	tb.Helper()
	e, ok := s.Lookup(fd)
	if !ok {
		tb.Fatalf("fd %d missing", fd)
	}
	if e.Type != typ || e.Name != name || s.Cloexec(fd) != cloexec {
		tb.Fatalf("fd %d: %s %q cloexec=%v, want %s %q cloexec=%v", fd, e.Type, e.Name, s.Cloexec(fd), typ, name, cloexec)
	}
	return e
}

func wantNoFD(tb testing.TB, s FDSet, fds ...int32) {
	tb.Helper()
	for _, fd := range fds {
		if e, ok := s.Lookup(fd); ok {
			tb.Fatalf("fd %d still there: %+v", fd, e)
		}
	}
}
