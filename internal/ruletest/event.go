package ruletest

import (
	"errors"
	"fmt"
	"net/netip"
	"path"
	"strings"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/syscalls"
)

// buildEvent reads the test's settings, puts its ancestors and (unless
// the event is the exec that creates it) its process into table, and
// returns the event with the user and group names the fixture declared.
func buildEvent(t *Test, table *proc.Table) (*event.Event, *fields.Users, *container.Info, error) {
	spec := &eventSpec{dirfd: -100}
	if err := apply(t.Event, eventSetters, spec, &spec.proc); err != nil {
		return nil, nil, nil, err
	}
	if spec.typ == "" {
		return nil, nil, nil, fmt.Errorf("%s: the event needs evt.type", t.Pos)
	}
	ancestors := make([]procSpec, len(t.Ancestors))
	for i, a := range t.Ancestors {
		if err := apply(a, processSetters, spec, &ancestors[i]); err != nil {
			return nil, nil, nil, err
		}
	}
	// Pids: the process defaults to 4000, ancestors count down from it.
	users := map[uint32]string{0: "root"}
	groups := map[uint32]string{0: "root"}
	all := append([]*procSpec{&spec.proc}, ptrs(ancestors)...)
	for i, p := range all {
		if p.pid == 0 {
			p.pid = uint32(4000 - i)
		}
		defaults(p)
		if p.userName != "" {
			users[p.uid] = p.userName
		}
		if p.groupName != "" {
			groups[p.gid] = p.groupName
		}
	}
	for i := len(all) - 1; i >= 1; i-- {
		var ppid uint32
		if i+1 < len(all) {
			ppid = all[i+1].pid
		}
		ex := execOf(all[i], ppid, -1)
		table.Apply(ex)
		ex.Release()
	}
	var ppid uint32
	if len(all) > 1 {
		ppid = all[1].pid
	}
	ev, err := spec.event(table, ppid)
	if err != nil {
		var positioned *lang.Error
		if errors.As(err, &positioned) {
			return nil, nil, nil, err
		}
		return nil, nil, nil, fmt.Errorf("%s: %v", t.Pos, err)
	}
	if spec.cont != nil {
		spec.cont.Seal()
	}
	return ev, fields.StaticUsers(users, groups), spec.cont, nil
}

func ptrs(ps []procSpec) []*procSpec {
	out := make([]*procSpec, len(ps))
	for i := range ps {
		out[i] = &ps[i]
	}
	return out
}

// defaults fills what a fixture left out so that the process looks like
// one started from a shell: named after its executable, argv[0] its name.
func defaults(p *procSpec) {
	switch {
	case p.name == "" && p.exepath == "":
		p.name, p.exepath = "proc", "/usr/bin/proc"
	case p.name == "":
		p.name = path.Base(p.exepath)
	case p.exepath == "":
		p.exepath = "/usr/bin/" + p.name
	}
	if len(p.name) > 15 {
		p.name = p.name[:15] // the kernel keeps 15 bytes of comm
	}
	if !p.exeSet {
		p.exe = p.name
	}
	if p.cwd == "" {
		p.cwd = "/"
	}
	if !p.loginuidSet {
		// A user's process usually descends from their login; root's
		// usually from a service that never logged in.
		p.loginuid = p.uid
		if p.uid == 0 {
			p.loginuid = proc.NoLoginUID
		}
	}
	if p.sid == 0 {
		p.sid = p.pid
	}
	if p.pgid == 0 {
		p.pgid = p.pid
	}
}

// execOf returns a successful exec of p; nr is the syscall, -1 for the
// scheduler hook.
func execOf(p *procSpec, ppid uint32, nr int32) *event.Event {
	ev := event.New()
	ev.Kind, ev.Syscall, ev.PID, ev.TID, ev.PPID, ev.Comm = event.KindExec, nr, p.pid, p.pid, ppid, p.name
	ev.Timestamp = uint64(p.pid) * 1000
	ev.Exec = event.Exec{
		Filename: p.exepath, Exe: p.exepath, Args: strings.Join(append([]string{p.exe}, p.args...), "\x00"),
		Cwd: p.cwd, LoaderEnv: strings.Join(p.loaderEnv, "\x00"), UID: p.uid, GID: p.gid, EUID: p.uid, EGID: p.gid, LoginUID: p.loginuid,
		TTY: p.tty, SID: p.sid, PGID: p.pgid, CapEffective: p.capEff, CapPermitted: p.capPerm, Flags: p.flags,
		Stdio: p.stdio,
	}
	return ev
}

// event builds the fixture's event. Its process is put into the table
// first unless the event is the exec that creates it.
func (e *eventSpec) event(table *proc.Table, ppid uint32) (*event.Event, error) {
	nr, isSyscall := syscalls.Number(e.typ)
	h := syscalls.HandlerFor(e.typ)
	switch {
	case e.typ == "procfork" || e.typ == "procexit":
	case !isSyscall || h == syscalls.None:
		return nil, fmt.Errorf("evt.type %q is not an event Vigil captures (%s, procfork, procexit)", e.typ, strings.Join(syscalls.Supported(), ", "))
	}
	if err := e.readArgs(h); err != nil {
		return nil, err
	}
	p := &e.proc
	if p.flags&event.ExecStdio != 0 && h != syscalls.Execve && h != syscalls.ExecveAt {
		return nil, fmt.Errorf("proc.stdin, proc.stdout and proc.stderr describe an exec's record: set them on execve or execveat")
	}
	if (h == syscalls.Execve || h == syscalls.ExecveAt) && e.res == 0 {
		ev := execOf(p, ppid, nr)
		if e.filename != "" {
			ev.Exec.Filename = e.filename
		}
		ev.Timestamp += 500
		e.place(ev)
		return ev, nil
	}
	ex := execOf(p, ppid, -1)
	table.Apply(ex)
	ex.Release()

	ev := event.New()
	ev.Syscall, ev.PID, ev.TID, ev.PPID, ev.Comm, ev.Ret = nr, p.pid, p.pid, ppid, p.name, e.res
	ev.Timestamp = uint64(p.pid)*1000 + 500
	if e.tid != 0 {
		ev.TID = e.tid
	}
	switch {
	case e.typ == "procfork":
		ev.Kind, ev.Syscall = event.KindFork, -1
		ev.Fork = event.Fork{ChildPID: p.pid + 1, ChildTID: p.pid + 1}
	case e.typ == "procexit":
		ev.Kind, ev.Syscall = event.KindExit, -1
	case h == syscalls.Execve || h == syscalls.ExecveAt:
		ev.Kind = event.KindExec // a failed exec: the caller's identity, no new image
		ev.Exec = event.Exec{Filename: e.filename, Cwd: p.cwd, UID: p.uid, GID: p.gid, EUID: p.uid, EGID: p.gid, LoginUID: p.loginuid}
	case h <= syscalls.Creat:
		e.openEvent(ev, h)
	case h == syscalls.Generic:
		ev.Kind = event.KindSyscall
		if err := e.sysArgs(ev, p.cwd); err != nil {
			ev.Release()
			return nil, err
		}
	default:
		e.socketEvent(ev, h)
	}
	e.place(ev)
	return ev, nil
}

// place puts the event in the fixture's container, if it has one.
func (e *eventSpec) place(ev *event.Event) {
	if e.cont != nil {
		ev.CgroupID = fixtureCgroup
	}
}

func (e *eventSpec) openEvent(ev *event.Event, h syscalls.Handler) {
	ev.Kind = event.KindOpen
	if !e.resSet {
		ev.Ret = 3
	}
	flags := e.flags
	if h == syscalls.Creat && !e.flagsSet {
		flags = 0x1 | 0x40 | 0x200 // what creat reports: O_WRONLY|O_CREAT|O_TRUNC
	}
	p := e.path
	if p == "" {
		p = "/"
	}
	raw := e.raw
	if raw == "" {
		raw = p
	}
	dirfd := e.dirfd
	if h == syscalls.Open || h == syscalls.Creat {
		dirfd = -100
	}
	ev.Open = event.Open{Path: p, RawPath: raw, DirFD: dirfd, Flags: flags, Mode: e.mode}
}

func (e *eventSpec) socketEvent(ev *event.Event, h syscalls.Handler) {
	ev.Kind = event.KindSocket
	s := event.Socket{FD: 3, Family: 2, Type: 1, Protocol: 6, Local: e.local, Remote: e.remote}
	switch h {
	case syscalls.Connect:
		s.Op = event.OpConnect
		place(&s.Remote, e.server)
		place(&s.Local, e.client)
	case syscalls.Accept:
		s.Op = event.OpAccept
		place(&s.Local, e.server)
		place(&s.Remote, e.client)
		if !e.resSet {
			ev.Ret = 5 // the accepted connection's fd
		}
	case syscalls.Bind, syscalls.Listen:
		s.Op = event.OpBind
		if h == syscalls.Listen {
			s.Op = event.OpListen
		}
		place(&s.Local, e.server)
	}
	if e.l4proto == "udp" {
		s.Type, s.Protocol = 2, 17
	}
	switch {
	case e.path != "":
		s.Family = 1 // a unix socket, named by its path
		if s.Op == event.OpConnect {
			s.RemotePath = e.path
		} else {
			s.LocalPath = e.path
		}
	case s.Local.Addr().Is6() || s.Remote.Addr().Is6():
		s.Family = 10
	}
	ev.Socket = s
}

// place puts an end given as server or client where the operation keeps it.
func place(dst *netip.AddrPort, src *netip.AddrPort) {
	if src != nil {
		*dst = *src
	}
}
