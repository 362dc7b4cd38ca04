package proc

import (
	"strings"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/event"
)

// MaxFDsPerProcess bounds the fds tracked for one process. A process
// beyond it has its new fds left out of the table (Stats().FDsDropped
// counts them): each costs memory, and a process with this many is
// already unusual enough that its table is no longer what rules rely on.
const MaxFDsPerProcess = 1 << 16

// Kernel constants the fd table reads from raw syscall arguments.
const (
	oDirectory     = 0o200000
	oTmpfile       = 0o20000000 | oDirectory
	sockCloexec    = 0o2000000 // SOCK_CLOEXEC, the same bit as O_CLOEXEC
	sockTypeMask   = 0xf
	fDupfd         = 0
	fSetfd         = 2
	fDupfdCloexec  = 1030
	fdCloexecFlag  = 1 // FD_CLOEXEC
	mfdCloexec     = 1
	closeRangeExec = 1 << 2 // CLOSE_RANGE_CLOEXEC
	errBadf        = 9
	errInProgress  = 115
)

// applyFD updates the fd table of ev's process. Only successful calls
// change it (and close, which releases the fd whenever it was valid). A
// process the table does not know has no table to update.
func (t *Table) applyFD(ev *event.Event) {
	var p Process
	if !t.shard(ev.PID).get(ev.PID, &p) || p.Files == nil {
		return
	}
	f, ts := p.Files, ev.Timestamp
	switch ev.Kind {
	case event.KindOpen:
		t.fdOpen(f, ts, ev)
	case event.KindSocket:
		t.fdSocket(f, ts, ev)
	case event.KindSyscall:
		if ev.Syscall >= 0 && ev.Syscall < maxSyscallNr {
			t.fdSyscall(f, ts, ev, fdOps[ev.Syscall])
		}
	}
}

// retFD converts a syscall result to an fd, reporting whether it is one.
func retFD(ret int64) (int32, bool) {
	return int32(ret), ret >= 0 && ret <= 1<<31-1
}

// argFD converts a raw fd argument. The kernel reads fd arguments as C
// ints, so only the low 32 bits count.
func argFD(v uint64) (int32, bool) {
	fd := int32(uint32(v))
	return fd, fd >= 0
}

func (t *Table) fdOpen(f *Files, ts uint64, ev *event.Event) {
	fd, ok := retFD(ev.Ret)
	if !ok {
		return
	}
	o := &ev.Open
	typ := FDFile
	if o.Flags&oDirectory != 0 && o.Flags&oTmpfile != oTmpfile {
		typ = FDDirectory
	}
	t.setFDs(f, ts, fd, &FD{Type: typ, Name: strings.Clone(o.Path)}, o.Flags&oCloexec != 0, -1, nil, false)
}

// sockType maps an address family to the fd type of its sockets.
func sockType(family uint64) FDType {
	switch family {
	case unix.AF_INET:
		return FDIPv4
	case unix.AF_INET6:
		return FDIPv6
	case unix.AF_UNIX:
		return FDUnix
	case unix.AF_NETLINK:
		return FDNetlink
	}
	return FDUnknown
}

func (t *Table) fdSocket(f *Files, ts uint64, ev *event.Event) {
	s := &ev.Socket
	ok := ev.Ret == 0
	switch s.Op {
	case event.OpConnect:
		// A non-blocking connect reports EINPROGRESS and goes on in the
		// background: the socket is the client of that peer from now on.
		ok = ok || ev.Ret == -errInProgress
	case event.OpAccept:
		fd, valid := retFD(ev.Ret)
		if !valid {
			return
		}
		// accept4's flags are not in the event, so the new fd is taken to
		// be inheritable, as accept's is.
		t.setFDs(f, ts, fd, socketFD(ev, nil), false, -1, nil, false)
		return
	}
	fd := s.FD
	if !ok || fd < 0 {
		return
	}
	f.update(ts, func(cur *fdSet) (fdSet, bool) {
		old, cloexec, _ := cur.get(fd)
		e := socketFD(ev, old)
		next := cur.with(fd, e, cloexec)
		if old != nil && old.Flags&fdShared != 0 {
			// dups of this socket see the same connection
			cur.each(func(other int32, o *FD, oc bool) bool {
				if o == old && other != fd {
					next = next.with(other, e, oc)
				}
				return true
			})
		}
		return next, true
	})
}

// socketFD describes the socket a socket event leaves, on top of what the
// table knew about it (old, possibly nil).
func socketFD(ev *event.Event, old *FD) *FD {
	s := &ev.Socket
	e := &FD{}
	if old != nil {
		*e = *old
	}
	e.Type = sockType(uint64(s.Family))
	e.Family, e.SockType, e.Proto = s.Family, uint8(s.Type), uint8(s.Protocol)
	if s.Local.IsValid() {
		e.Local = s.Local
	}
	if s.Remote.IsValid() {
		e.Remote = s.Remote
	}
	switch s.Op {
	case event.OpConnect:
		e.Role = RoleClient
		if ev.Ret == 0 {
			e.Flags |= FDConnected
		}
	case event.OpAccept:
		e.Role, e.Flags = RoleServer, FDConnected
	case event.OpBind:
		e.Role = RoleServer
	case event.OpListen:
		e.Role = RoleServer
		e.Flags |= FDListening
	}
	if e.Type == FDUnix {
		name := s.LocalPath
		if s.RemotePath != "" && s.Op != event.OpBind && s.Op != event.OpListen {
			name = s.RemotePath
		}
		if name != "" || e.Name == "" {
			e.Name = strings.Clone(name)
		}
	}
	return e
}

// setFDs stores up to two fds in one version: a (if >= 0) and b (if >= 0).
// A nil entry removes the fd. New fds beyond MaxFDsPerProcess are dropped
// and counted.
func (t *Table) setFDs(f *Files, ts uint64, a int32, ea *FD, ca bool, b int32, eb *FD, cb bool) {
	f.update(ts, func(cur *fdSet) (fdSet, bool) {
		next, changed := *cur, false
		for _, op := range [2]struct {
			fd      int32
			e       *FD
			cloexec bool
		}{{a, ea, ca}, {b, eb, cb}} {
			if op.fd < 0 {
				continue
			}
			old, oc, had := next.get(op.fd)
			switch {
			case op.e == nil && !had, op.e != nil && had && old == op.e && oc == op.cloexec:
				continue
			case op.e != nil && !had && next.n >= MaxFDsPerProcess:
				t.fdDropped.Add(1)
				continue
			}
			next, changed = next.with(op.fd, op.e, op.cloexec), true
		}
		return next, changed
	})
}

// dupFD makes dst refer to what src refers to, or forgets dst when src is
// not known: either way the old dst is gone. The shared entry is marked so
// that a later connect on either fd updates both.
func (t *Table) dupFD(f *Files, ts uint64, src, dst int32, cloexec bool) {
	if src == dst || dst < 0 {
		return
	}
	f.update(ts, func(cur *fdSet) (fdSet, bool) {
		e, srcCloexec, ok := cur.get(src)
		if !ok {
			if _, _, had := cur.get(dst); !had {
				return *cur, false
			}
			return cur.with(dst, nil, false), true
		}
		next := *cur
		if e.Flags&fdShared == 0 {
			shared := *e
			shared.Flags |= fdShared
			e = &shared
			next = next.with(src, e, srcCloexec)
		}
		if _, _, had := next.get(dst); !had && next.n >= MaxFDsPerProcess {
			t.fdDropped.Add(1)
			return next, true
		}
		return next.with(dst, e, cloexec), true
	})
}
