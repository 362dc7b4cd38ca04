// Package decode turns the eBPF ring-buffer records described in bpf/vigil.h
// into event.Event values. It uses no reflection and, once the pooled event
// buffers have grown, no allocation: strings are views into the event's own
// copy of the record.
package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/event"
)

var le = binary.LittleEndian

// ErrShort reports a record that ends before its declared fields do.
var ErrShort = errors.New("record truncated")

// Error describes a record that could not be decoded, with the byte offset
// at which decoding stopped.
type Error struct {
	Kind   uint16
	Offset int
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("decode kind %d at byte %d: %v", e.Kind, e.Offset, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Decode fills ev from one record. On error ev is left partially filled and
// should be released by the caller.
func Decode(rec []byte, ev *event.Event) error {
	if len(rec) < headerSize {
		return &Error{Offset: len(rec), Err: ErrShort}
	}
	kind := le.Uint16(rec[hdrKind:])
	size := int(le.Uint16(rec[hdrSize:]))
	if size < headerSize || size > len(rec) {
		return &Error{Kind: kind, Offset: hdrSize, Err: fmt.Errorf("declared size %d, record has %d bytes", size, len(rec))}
	}
	// Room for the copy plus one joined path, so strings never move.
	buf := ev.Buffer(2*size + 2)
	buf = append(buf, rec[:size]...)
	ev.SetBuffer(buf)
	r := reader{buf: buf, off: headerSize, kind: kind}

	ev.Timestamp = le.Uint64(buf[hdrTsNs:])
	ev.CgroupID = le.Uint64(buf[hdrCgroupID:])
	ev.Ret = int64(le.Uint64(buf[hdrRet:]))
	ev.Syscall = int32(le.Uint32(buf[hdrSyscallNr:]))
	ev.PID = le.Uint32(buf[hdrPID:])
	ev.TID = le.Uint32(buf[hdrTID:])
	ev.PPID = le.Uint32(buf[hdrPPID:])
	ev.Comm = cString(buf[hdrComm : hdrComm+commLen])

	switch kind {
	case wireFork:
		ev.Kind = event.KindFork
		return r.fork(ev)
	case wireExec:
		ev.Kind = event.KindExec
		return r.exec(ev)
	case wireExit:
		ev.Kind = event.KindExit
		return r.exit(ev)
	case wireOpen:
		ev.Kind = event.KindOpen
		return r.open(ev)
	case wireSocket:
		ev.Kind = event.KindSocket
		return r.socket(ev)
	case wireSyscall:
		ev.Kind = event.KindSyscall
		return r.syscall(ev)
	}
	return &Error{Kind: kind, Offset: hdrKind, Err: fmt.Errorf("unknown event kind %d", kind)}
}

// reader walks the body and variable fields of one record.
type reader struct {
	buf  []byte
	off  int
	kind uint16
	err  error
}

// fail records the first error; the record's decoder returns r.err once
// it has read every field.
func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = &Error{Kind: r.kind, Offset: r.off, Err: err}
	}
}

// fixed returns the next n bytes of the fixed body.
func (r *reader) fixed(n int) []byte {
	if r.err != nil || r.off+n > len(r.buf) {
		r.fail(ErrShort)
		return nil
	}
	b := r.buf[r.off : r.off+n]
	r.off += n
	return b
}

// bytes returns the next variable-length field.
func (r *reader) bytes() []byte {
	if r.err != nil {
		return nil
	}
	if r.off+2 > len(r.buf) {
		r.fail(ErrShort)
		return nil
	}
	n := int(le.Uint16(r.buf[r.off:]))
	if r.off+2+n > len(r.buf) {
		r.fail(fmt.Errorf("field of %d bytes overruns the record", n))
		return nil
	}
	b := r.buf[r.off+2 : r.off+2+n]
	r.off += 2 + n
	return b
}

func (r *reader) string() string { return view(r.bytes()) }

func (r *reader) fork(ev *event.Event) error {
	b := r.fixed(forkSize)
	if b == nil {
		return r.err
	}
	ev.Fork.ChildPID = le.Uint32(b[forkChildPID:])
	ev.Fork.ChildTID = le.Uint32(b[forkChildTID:])
	ev.Fork.IsThread = le.Uint32(b[forkFlags:])&1 != 0
	return nil
}

func (r *reader) exec(ev *event.Event) error {
	b := r.fixed(execSize)
	if b == nil {
		return r.err
	}
	x := &ev.Exec
	x.UID = le.Uint32(b[execUID:])
	x.GID = le.Uint32(b[execGID:])
	x.EUID = le.Uint32(b[execEUID:])
	x.EGID = le.Uint32(b[execEGID:])
	x.LoginUID = le.Uint32(b[execLoginUID:])
	x.TTY = le.Uint32(b[execTTY:])
	x.SID = le.Uint32(b[execSID:])
	x.PGID = le.Uint32(b[execPGID:])
	x.CapEffective = le.Uint64(b[execCapEffective:])
	x.CapPermitted = le.Uint64(b[execCapPermitted:])
	x.MntNS = le.Uint32(b[execMntNS:])
	x.Flags = event.ExecFlags(le.Uint32(b[execFlags:]))
	if x.Flags&event.ExecStdio != 0 {
		stdio(&x.Stdio, b)
	}
	x.Filename = r.string()
	x.Exe = r.string()
	x.Cwd = r.string()
	args := r.bytes()
	for len(args) > 0 && args[len(args)-1] == 0 {
		args = args[:len(args)-1]
	}
	x.Args = view(args)
	x.LoaderEnv = r.string()
	return r.err
}

// stdio decodes the standard fds of an exec body. The socket's ends are
// kept only when some fd is an IP socket of the family they belong to.
func stdio(s *event.Stdio, b []byte) {
	var family event.StdioType
	for i := range s.Type {
		v := b[execStdio+i]
		s.Type[i] = event.StdioType(v & stdioTypeMask)
		s.Addr[i] = v&stdioAddr != 0
		if s.Addr[i] {
			family = s.Type[i]
		}
	}
	lport, rport := le.Uint16(b[execLport:]), le.Uint16(b[execRport:])
	switch family {
	case event.StdioIPv4:
		s.Local = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[execLaddr:])), lport)
		s.Remote = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[execRaddr:])), rport)
	case event.StdioIPv6:
		s.Local = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[execLaddr:])), lport)
		s.Remote = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[execRaddr:])), rport)
	default:
		s.Addr = [3]bool{}
	}
}

func (r *reader) exit(ev *event.Event) error {
	b := r.fixed(exitSize)
	if b == nil {
		return r.err
	}
	code := le.Uint32(b[exitCode:])
	ev.Exit.Code = (code >> 8) & 0xff
	ev.Exit.Signal = code & 0x7f
	ev.Exit.CoreDumped = code&0x80 != 0
	return nil
}

func (r *reader) open(ev *event.Event) error {
	b := r.fixed(openSize)
	if b == nil {
		return r.err
	}
	o := &ev.Open
	o.DirFD = int32(le.Uint32(b[openDirfd:]))
	o.Flags = le.Uint32(b[openFlags:])
	o.Mode = le.Uint32(b[openMode:])
	o.Resolve = le.Uint64(b[openResolve:])
	raw := r.bytes()
	base := r.bytes()
	if r.err != nil {
		return r.err
	}
	o.RawPath = view(raw)
	o.Path = joinClean(ev, base, raw)
	return nil
}

// joinClean resolves raw against base lexically (as Falco does: symlinks are
// not followed) and appends the result to the event's buffer, whose capacity
// Decode reserved, so no allocation happens and no earlier string moves.
func joinClean(ev *event.Event, base, raw []byte) string {
	buf := ev.BufferBytes()
	start := len(buf)
	if len(raw) == 0 || raw[0] != '/' {
		if len(base) == 0 {
			return view(raw) // no base known (bad dirfd): keep what we have
		}
		buf = append(buf, base...)
		buf = append(buf, '/')
	}
	buf = append(buf, raw...)
	n := cleanInPlace(buf[start:])
	buf = buf[:start+n]
	ev.SetBuffer(buf)
	return view(buf[start:])
}

func (r *reader) syscall(ev *event.Event) error {
	b := r.fixed(sysSize)
	if b == nil {
		return r.err
	}
	sys := &ev.Sys
	for i := range sys.Args {
		sys.Args[i] = le.Uint64(b[sysArgs+8*i:])
	}
	spec := le.Uint32(b[sysSpec:])
	for i := range sys.Slots {
		slot := (spec >> (8 + 6*i)) & 0x3f
		typ := uint8(slot >> 3)
		if typ == 0 {
			continue
		}
		s := &sys.Slots[i]
		s.Index, s.Type = uint8(slot&7), event.SlotType(typ)
		switch typ {
		case slotPath, slotPathAt:
			raw := r.bytes()
			base := r.bytes()
			if r.err != nil {
				return r.err
			}
			s.Value = view(raw)
			if len(raw) > 0 {
				s.Path = joinClean(ev, base, raw)
			}
		case slotFD:
			s.Path = r.string()
		default:
			s.Value = r.string()
		}
	}
	return r.err
}

func (r *reader) socket(ev *event.Event) error {
	b := r.fixed(socketSize)
	if b == nil {
		return r.err
	}
	s := &ev.Socket
	s.FD = int32(le.Uint32(b[sockFD:]))
	s.Family = le.Uint16(b[sockFamily:])
	s.Type = le.Uint16(b[sockType:])
	s.Protocol = le.Uint16(b[sockProtocol:])
	lport := le.Uint16(b[sockLport:])
	rport := le.Uint16(b[sockRport:])
	s.Op = event.SocketOp(le.Uint16(b[sockOp:]))
	s.Backlog = int32(le.Uint32(b[sockBacklog:]))
	switch s.Family {
	case unix.AF_INET:
		s.Local = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[sockLaddr:])), lport)
		s.Remote = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[sockRaddr:])), rport)
	case unix.AF_INET6:
		s.Local = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[sockLaddr:])), lport)
		s.Remote = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[sockRaddr:])), rport)
	}
	s.LocalPath = unixPath(r.bytes())
	s.RemotePath = unixPath(r.bytes())
	user := r.bytes()
	if r.err != nil {
		return r.err
	}
	applyUserAddr(ev, user)
	return nil
}

// applyUserAddr prefers the address the process passed to connect or bind:
// after a failed connect the socket no longer holds the peer, and before bind
// completes it holds no local address.
func applyUserAddr(ev *event.Event, sa []byte) {
	if len(sa) < 2 {
		return
	}
	s := &ev.Socket
	family := le.Uint16(sa)
	if s.Family == 0 {
		s.Family = family
	}
	if family != s.Family {
		return
	}
	var addr netip.AddrPort
	var path string
	switch family {
	case unix.AF_INET:
		if len(sa) < 8 {
			return
		}
		addr = netip.AddrPortFrom(netip.AddrFrom4([4]byte(sa[4:8])), binary.BigEndian.Uint16(sa[2:]))
	case unix.AF_INET6:
		if len(sa) < 24 {
			return
		}
		addr = netip.AddrPortFrom(netip.AddrFrom16([16]byte(sa[8:24])), binary.BigEndian.Uint16(sa[2:]))
	case unix.AF_UNIX:
		path = unixPath(sa[2:])
	default:
		return
	}
	if s.Op == event.OpBind {
		if family == unix.AF_UNIX {
			s.LocalPath = path
		} else if !s.Local.IsValid() || s.Local.Port() == 0 {
			s.Local = addr
		}
		return
	}
	if family == unix.AF_UNIX {
		s.RemotePath = path
	} else {
		s.Remote = addr
	}
}

// unixPath renders a sun_path: an abstract name (leading NUL) as "@name",
// like ss and Falco do; trailing NULs are dropped.
func unixPath(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if b[0] == 0 {
		b[0] = '@'
		for i := len(b) - 1; i > 0 && b[i] == 0; i-- {
			b = b[:i]
		}
		return view(b)
	}
	return cString(b)
}

// cString returns b up to its first NUL.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return view(b[:i])
		}
	}
	return view(b)
}

// view returns b as a string without copying. b belongs to the event's
// buffer, which outlives every string handed out until Release.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
