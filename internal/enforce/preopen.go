package enforce

import (
	"os"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/syscalls"
	"golang.org/x/sys/unix"
)

// PendingOpen is an open the kernel is about to complete, as a pre-open
// mechanism sees it.
type PendingOpen struct {
	PID, TID uint32
	// Path is the file's absolute path as the process sees it.
	Path string
	// Flags are the open flags when known. fanotify does not report them,
	// so a permission event is evaluated as a read-only open unless the
	// caller learned better.
	Flags uint32
	// Timestamp is the monotonic time of the attempt, in nanoseconds.
	Timestamp uint64
}

var openatNR = func() int32 {
	nr, _ := syscalls.Number("openat")
	return nr
}()

// DecideOpen evaluates the block rules on open against o with the
// process's full context, reports each match, and denies the open if an
// enforced rule matched. It is safe for concurrent use.
func (e *Enforcer) DecideOpen(o PendingOpen) Verdict {
	rules := e.preOpen
	if len(rules) == 0 {
		return Verdict{Allow: true, Cacheable: true}
	}
	ev := new(event.Event)
	ev.Kind, ev.Syscall, ev.Timestamp = event.KindOpen, openatNR, o.Timestamp
	ev.PID, ev.TID = o.PID, o.TID
	ev.Open.Path, ev.Open.RawPath, ev.Open.DirFD, ev.Open.Flags = o.Path, o.Path, unix.AT_FDCWD, o.Flags
	// The fd the open would return is unknown; any valid one will do for
	// rules that test evt.rawres >= 0.
	ev.Ret = 3
	env := e.cfg.Detector.Env()
	ev.PPID, ev.CgroupID, ev.Comm = e.lineage(o.PID)
	c := ctxPool.Get().(*fields.Context)
	defer ctxPool.Put(c)
	// The table can lag behind the kernel: a program that opens a file
	// right after its exec may still be known by its parent's image. The
	// process is blocked in the open, so its /proc entry is stable.
	if comm, exe, args, ok := liveProgram(e.cfg.ProcRoot, o.PID); ok {
		ev.Comm = comm
		c.ResetProgram(env, ev, 0, comm, exe, args, "")
	} else {
		c.Reset(env, ev, 0)
	}
	v := Verdict{Allow: true}
	for _, p := range rules {
		if p.Rule.Eval(c) && e.decideMatch(c, p, MechFanotifyOpen) {
			v.Allow = false
		}
	}
	return v
}

// liveProgram reads the program a process runs from /proc.
func liveProgram(procRoot string, pid uint32) (comm, exe, args string, ok bool) {
	dir := procRoot + "/" + strconv.FormatUint(uint64(pid), 10)
	b, err := os.ReadFile(dir + "/comm")
	if err != nil {
		return "", "", "", false
	}
	comm = strings.TrimSuffix(string(b), "\n")
	exe, _ = os.Readlink(dir + "/exe")
	if b, err := os.ReadFile(dir + "/cmdline"); err == nil {
		args = strings.TrimSuffix(string(b), "\x00")
	}
	return comm, exe, args, true
}
