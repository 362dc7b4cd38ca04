package fields

import (
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/syscalls"
)

// Fields backed by the process's fd table: fd.* for events that only name
// an fd (read, close, sendto, fchmod, ...), proc.stdin.* and friends, and
// the fd arguments of evt.arg.

// maxNr bounds the per-syscall tables below, like the kernel's filter map.
const maxNr = 512

const (
	fdArgNone   = -1 // the event is about no single fd
	fdArgResult = -2 // the event is about the fd it returned
)

// sysFDArg says, per syscall number, which argument is the event's fd:
// the first called fd or oldfd, as Falco's fd.* takes the fd a call works
// on; syscalls that only create an fd are about their result. sysFDBefore
// marks the calls that release their fd, whose fd.* describe the fd as it
// was before the call (as Falco defers removing a closed fd until the
// close event has been seen).
var sysFDArg, sysFDBefore = func() (arg [maxNr]int8, before [maxNr]bool) {
	for i := range arg {
		arg[i] = fdArgNone
	}
	for _, name := range syscalls.Supported() {
		nr, ok := syscalls.Number(name)
		spec, generic := syscalls.SpecFor(name)
		if !ok || !generic || nr < 0 || nr >= maxNr {
			continue
		}
		for i, a := range spec.Args {
			if a.Name == "fd" || a.Name == "oldfd" {
				arg[nr] = int8(i)
				break
			}
		}
		if arg[nr] == fdArgNone {
			arg[nr] = fdArgResult
		}
		before[nr] = name == "close" || name == "close_range"
	}
	return arg, before
}()

// fdsAt returns the process's fds as the event left them, or as they were
// just before it.
func (c *Context) fdsAt(before bool) proc.FDSet {
	i := 0
	if before {
		i = 1
	}
	if c.setsDone&(1<<i) == 0 {
		switch ts := c.Event.Timestamp; {
		case ts == 0:
			// A synthetic event without a time (a rule test's) sees the
			// table as it is.
			c.sets[i] = c.Proc.Files.Current()
		case before:
			c.sets[i], _ = c.Proc.Files.At(ts - 1)
		default:
			c.sets[i], _ = c.Proc.Files.At(ts)
		}
		c.setsDone |= 1 << i
	}
	return c.sets[i]
}

// syscallView describes the fd a generic syscall event is about, from the
// fd table, or from the path the kernel resolved for an fd argument.
func (c *Context) syscallView(v *fdView) {
	ev := c.Event
	nr := ev.Syscall
	if nr < 0 || nr >= maxNr || sysFDArg[nr] == fdArgNone {
		return
	}
	var num int64 = -1
	if i := sysFDArg[nr]; i >= 0 {
		num = int64(int32(uint32(ev.Sys.Args[i])))
	}
	if num < 0 && ev.Ret >= 0 && proc.ResultIsFD(ev) {
		num = ev.Ret
	}
	if num < 0 {
		return
	}
	v.has, v.hasNum, v.num = true, true, num
	e, known := c.fdsAt(sysFDBefore[nr]).Lookup(int32(num))
	if known {
		v.fromEntry(num, e)
	}
	// The kernel names the file behind an fd argument: fresher than the
	// table for files, and all there is when the table has no entry.
	if i := sysFDArg[nr]; i >= 0 {
		if s := slotAt(ev, uint8(i)); s != nil && s.Type == event.SlotType(syscalls.SlotFD) && s.Path != "" &&
			(!known || e.Type == proc.FDFile || e.Type == proc.FDDirectory) {
			v.name, v.described = s.Path, true
			if !known {
				v.typ = proc.FDFile
			}
		}
	}
}

// slotAt returns the decoded slot of argument i, or nil.
func slotAt(ev *event.Event, i uint8) *event.Slot {
	for k := range ev.Sys.Slots {
		if s := &ev.Sys.Slots[k]; s.Type != 0 && s.Index == i {
			return s
		}
	}
	return nil
}

// stdFD returns the entry for fd 0, 1 or 2 of the event's process as the
// event left it.
func (c *Context) stdFD(fd int32) (*proc.FD, bool) {
	return c.fdsAt(false).Lookup(fd)
}

// appendEntryName renders an fd table entry's name: the tuple for an IP
// socket, its Name otherwise.
func appendEntryName(dst []byte, num int64, e *proc.FD) []byte {
	if !e.IsIP() {
		return append(dst, e.Name...)
	}
	var v fdView
	v.fromEntry(num, e)
	return appendTuple(dst, &v)
}
