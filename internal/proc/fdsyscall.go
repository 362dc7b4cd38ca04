package proc

import (
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/syscalls"
)

// How the generic syscalls that make, copy and release fds change a
// process's fd table.

// fdShared marks an FD that more than one fd of the process refers to.
const fdShared FDFlags = 1 << 7

func (t *Table) fdSyscall(f *Files, ts uint64, ev *event.Event, op fdOp) {
	a := &ev.Sys.Args
	ret := ev.Ret
	if op == opNone || ret < 0 && op != opClose {
		return
	}
	switch op {
	case opSocket:
		if fd, ok := retFD(ret); ok {
			e := &FD{Type: sockType(a[0]), Family: uint16(a[0]), SockType: uint8(a[1] & sockTypeMask), Proto: uint8(a[2])}
			t.setFDs(f, ts, fd, e, a[1]&sockCloexec != 0, -1, nil, false)
		}
	case opSocketpair:
		if r, w, ok := fdPair(ev); ok {
			typ, cloexec := sockType(a[0]), a[1]&sockCloexec != 0
			mk := func() *FD {
				return &FD{Type: typ, Family: uint16(a[0]), SockType: uint8(a[1] & sockTypeMask), Proto: uint8(a[2]), Flags: FDConnected}
			}
			t.setFDs(f, ts, r, mk(), cloexec, w, mk(), cloexec)
		}
	case opPipe, opPipe2:
		if r, w, ok := fdPair(ev); ok {
			cloexec := op == opPipe2 && a[1]&oCloexec != 0
			t.setFDs(f, ts, r, &FD{Type: FDPipe}, cloexec, w, &FD{Type: FDPipe}, cloexec)
		}
	case opDup:
		if fd, ok := retFD(ret); ok {
			t.dupFD(f, ts, int32(uint32(a[0])), fd, false)
		}
	case opDup2, opDup3:
		if fd, ok := retFD(ret); ok {
			t.dupFD(f, ts, int32(uint32(a[0])), fd, op == opDup3 && a[2]&oCloexec != 0)
		}
	case opFcntl:
		t.fcntl(f, ts, ev)
	case opClose:
		// close releases the fd even when it then reports an error (EINTR,
		// EIO from a flush); only EBADF means there was nothing to close.
		if ret != -errBadf {
			if fd, ok := argFD(a[0]); ok {
				t.setFDs(f, ts, fd, nil, false, -1, nil, false)
			}
		}
	case opCloseRange:
		closeRange(f, ts, uint32(a[0]), uint32(a[1]), a[2]&closeRangeExec != 0)
	case opMemfd:
		if fd, ok := retFD(ret); ok {
			e := &FD{Type: FDMemfd, Name: "memfd:" + ev.Sys.Slots[0].Value}
			t.setFDs(f, ts, fd, e, a[1]&mfdCloexec != 0, -1, nil, false)
		}
	case opBPF:
		if name := bpfFDName(a[0]); name != "" {
			if fd, ok := retFD(ret); ok {
				t.setFDs(f, ts, fd, &FD{Type: FDBPF, Name: name}, true, -1, nil, false)
			}
		}
	case opAnon:
		if fd, ok := retFD(ret); ok {
			m := &fdAnon[ev.Syscall]
			cloexec := m.always || m.flagArg >= 0 && a[m.flagArg]&m.cloexec != 0
			t.setFDs(f, ts, fd, &FD{Type: m.typ, Name: m.name}, cloexec, -1, nil, false)
		}
	}
}

// fdPair reads the two fds pipe, pipe2 and socketpair wrote: two
// little-endian int32s in the FDPAIR slot.
func fdPair(ev *event.Event) (r, w int32, ok bool) {
	for i := range ev.Sys.Slots {
		s := &ev.Sys.Slots[i]
		if s.Type != event.SlotType(syscalls.SlotFDPair) || len(s.Value) != 8 {
			continue
		}
		v := s.Value
		r = int32(uint32(v[0]) | uint32(v[1])<<8 | uint32(v[2])<<16 | uint32(v[3])<<24)
		w = int32(uint32(v[4]) | uint32(v[5])<<8 | uint32(v[6])<<16 | uint32(v[7])<<24)
		return r, w, r >= 0 && w >= 0
	}
	return 0, 0, false
}

func (t *Table) fcntl(f *Files, ts uint64, ev *event.Event) {
	a := &ev.Sys.Args
	src, ok := argFD(a[0])
	if !ok {
		return
	}
	switch int32(a[1]) {
	case fDupfd, fDupfdCloexec:
		if fd, ok := retFD(ev.Ret); ok {
			t.dupFD(f, ts, src, fd, int32(a[1]) == fDupfdCloexec)
		}
	case fSetfd:
		cloexec := a[2]&fdCloexecFlag != 0
		f.update(ts, func(cur *fdSet) (fdSet, bool) {
			e, c, had := cur.get(src)
			if !had || c == cloexec {
				return *cur, false
			}
			return cur.with(src, e, cloexec), true
		})
	}
}

// closeRange closes, or marks close-on-exec, the fds from first to last.
func closeRange(f *Files, ts uint64, first, last uint32, cloexec bool) {
	f.update(ts, func(cur *fdSet) (fdSet, bool) {
		next, changed := *cur, false
		cur.each(func(fd int32, e *FD, c bool) bool {
			u := uint32(fd)
			if u < first {
				return true
			}
			if u > last {
				return false
			}
			switch {
			case !cloexec:
				next, changed = next.with(fd, nil, false), true
			case !c:
				next, changed = next.with(fd, e, true), true
			}
			return true
		})
		return next, changed
	})
}

// bpfFDName names the fd a bpf command returns, as /proc shows it, or ""
// for commands that return no fd.
func bpfFDName(cmd uint64) string {
	switch cmd {
	case 0, 14: // BPF_MAP_CREATE, BPF_MAP_GET_FD_BY_ID
		return "anon_inode:bpf-map"
	case 5, 13: // BPF_PROG_LOAD, BPF_PROG_GET_FD_BY_ID
		return "anon_inode:bpf-prog"
	case 17, 28, 30: // BPF_RAW_TRACEPOINT_OPEN, BPF_LINK_CREATE, BPF_LINK_GET_FD_BY_ID
		return "anon_inode:bpf_link"
	case 18, 19: // BPF_BTF_LOAD, BPF_BTF_GET_FD_BY_ID
		return "anon_inode:btf"
	case 7: // BPF_OBJ_GET: a pinned object of any kind
		return "anon_inode:bpf"
	case 33: // BPF_ITER_CREATE
		return "anon_inode:bpf_iter"
	case 36: // BPF_TOKEN_CREATE
		return "anon_inode:bpf-token"
	}
	return ""
}

// closeOnExec applies a successful exec: fds marked close-on-exec go.
func closeOnExec(f *Files, ts uint64) {
	f.update(ts, func(cur *fdSet) (fdSet, bool) {
		if cur.nCloexec == 0 {
			return *cur, false
		}
		return cur.withoutCloexec(), true
	})
}
