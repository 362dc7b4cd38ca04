package proc

import (
	"strings"

	"github.com/vigilsec/vigil/internal/event"
)

// Apply updates the table from one event. It keeps nothing that points
// into ev, so the caller may Release ev as soon as Apply returns.
//
// Events for pids the table does not know are ignored, except exec, which
// creates the entry: an exec carries a full identity, while anything else
// would produce an entry with nothing in it.
func (t *Table) Apply(ev *event.Event) {
	if ev == nil || !validPID(ev.PID) {
		return
	}
	switch ev.Kind {
	case event.KindFork:
		t.refresh(ev)
		t.fork(ev)
	case event.KindExec:
		if ev.Ret == 0 {
			t.exec(ev) // sets PPID and cgroup itself
		} else {
			t.refresh(ev)
		}
	case event.KindExit:
		t.exit(ev.PID)
	default:
		t.refresh(ev)
		if !t.noFDs.Load() {
			t.applyFD(ev)
		}
	}
}

// refresh brings PPID and cgroup up to date: a process is reparented when
// its parent dies and can be moved between cgroups, neither of which we see
// as an event of its own. Zero means "not reported" and is ignored, so a
// sparse event cannot cut an ancestry chain.
func (t *Table) refresh(ev *event.Event) {
	if ev.PPID == 0 && ev.CgroupID == 0 {
		return
	}
	sh := t.shard(ev.PID)
	// The common case is that nothing changed, which a lock-free read
	// settles without making workers on the same shard wait for each other.
	var cur Process
	if !sh.get(ev.PID, &cur) || !stale(&cur, ev) {
		return
	}
	sh.mu.Lock()
	if p, ok := sh.lockedGet(ev.PID); ok && stale(&p, ev) {
		if ev.PPID != 0 {
			p.PPID = ev.PPID
		}
		if ev.CgroupID != 0 {
			p.CgroupID = ev.CgroupID
		}
		sh.put(&p)
	}
	sh.mu.Unlock()
}

func stale(p *Process, ev *event.Event) bool {
	return (ev.PPID != 0 && p.PPID != ev.PPID) || (ev.CgroupID != 0 && p.CgroupID != ev.CgroupID)
}

// fork creates the child's entry. The child shares the parent's Image, so
// this costs no allocation when the parent is known.
func (t *Table) fork(ev *event.Event) {
	child := ev.Fork.ChildPID
	if ev.Fork.IsThread || !validPID(child) || child == ev.PID {
		return
	}
	// A parent that exited since the fork is still the one to inherit
	// from: its exit can be applied before this fork is.
	var parent Process
	ok := t.getOrRecent(ev.PID, &parent)
	p := Process{
		PID:       child,
		PPID:      ev.PID,
		StartTime: ev.Timestamp,
		CgroupID:  ev.CgroupID,
		Image:     parent.Image,
	}
	// The child inherits the parent's fds as they were at the fork, which
	// the parent's worker may have moved past (see Files).
	var exact bool
	p.Files, exact = forkFrom(parent.Files, ev.Timestamp)
	if ok && !exact {
		t.fdInexact.Add(1)
	}
	if !ok {
		// Without the parent all we know is the name, which the child
		// inherited along with everything else we cannot see.
		p.Image = &Image{Comm: strings.Clone(ev.Comm), LoginUID: NoLoginUID}
	} else if p.CgroupID == 0 {
		p.CgroupID = parent.CgroupID
	}
	sh := t.shard(child)
	sh.mu.Lock()
	// A leftover entry under this pid belongs to an earlier process whose
	// exit we missed; the new one replaces it.
	p.Serial = sh.nextSerial()
	sh.put(&p)
	sh.created++
	sh.mu.Unlock()
}

// exec publishes a new Image for ev.PID, creating the entry if needed.
func (t *Table) exec(ev *event.Event) {
	old, _ := t.Get(ev.PID)
	img := newExecImage(ev, old.Image)

	sh := t.shard(ev.PID)
	sh.mu.Lock()
	p, ok := sh.lockedGet(ev.PID)
	if !ok {
		// The fds of a process first seen at its exec are unknown: its
		// table starts empty and fills with what it opens from now on.
		p = Process{PID: ev.PID, Serial: sh.nextSerial(), Files: newFiles(fdSet{}, ev.Timestamp)}
		sh.created++
	}
	if p.Files == nil {
		p.Files = newFiles(fdSet{}, ev.Timestamp)
	}
	p.Image = img
	if ev.PPID != 0 {
		p.PPID = ev.PPID
	}
	if ev.CgroupID != 0 {
		p.CgroupID = ev.CgroupID
	}
	sh.put(&p)
	sh.execs++
	sh.mu.Unlock()
	closeOnExec(p.Files, ev.Timestamp)
}

// exit removes the entry from the live table straight away, so that the
// table's size follows the number of live processes however fast they
// churn, and moves it to the fixed-size graveyard (see grave.go).
func (t *Table) exit(pid uint32) {
	sh := t.shard(pid)
	sh.mu.Lock()
	if p, ok := sh.lockedGet(pid); ok {
		sh.remove(pid)
		sh.bury(&p)
		sh.exited++
	}
	sh.mu.Unlock()
}

// newExecImage builds the Image for a successful exec. The event's strings
// die with the event, so they are copied, all into a single allocation;
// strings equal to the previous image's (the cwd, usually) are shared
// instead of copied.
func newExecImage(ev *event.Event, prev *Image) *Image {
	x := &ev.Exec
	img := &Image{
		UID:          x.UID,
		GID:          x.GID,
		EUID:         x.EUID,
		EGID:         x.EGID,
		LoginUID:     x.LoginUID,
		TTY:          x.TTY,
		SID:          x.SID,
		PGID:         x.PGID,
		CapEffective: x.CapEffective,
		CapPermitted: x.CapPermitted,
		MntNS:        x.MntNS,
		Flags:        x.Flags,
		ExecTime:     ev.Timestamp,
	}
	if prev == nil {
		prev = &emptyImage
	}
	need := 0
	for _, f := range [...][2]string{{ev.Comm, prev.Comm}, {x.Exe, prev.Exe}, {x.Args, prev.Args}, {x.Cwd, prev.Cwd}, {x.LoaderEnv, prev.LoaderEnv}} {
		if f[0] != f[1] {
			need += len(f[0])
		}
	}
	var b strings.Builder
	b.Grow(need)
	img.Comm = pack(&b, ev.Comm, prev.Comm)
	img.Exe = pack(&b, x.Exe, prev.Exe)
	img.Args = pack(&b, x.Args, prev.Args)
	img.Cwd = pack(&b, x.Cwd, prev.Cwd)
	img.LoaderEnv = pack(&b, x.LoaderEnv, prev.LoaderEnv)
	return img
}

// pack returns prev if it equals s, and otherwise a copy of s appended to b.
// b must have been grown for every append beforehand: the copies are views
// into b's single buffer, which must therefore never be reallocated.
func pack(b *strings.Builder, s, prev string) string {
	if s == prev {
		return prev
	}
	start := b.Len()
	b.WriteString(s)
	return b.String()[start:]
}
