package fields

import (
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/syscalls"
)

// Rendering helpers for the parameters of generic syscall events.

// appendSysResult renders a generic syscall's result: an fd it created
// with its type and name, 0, or -2(ENOENT).
func appendSysResult(c *Context, dst []byte) []byte {
	if ev := c.Event; ev.Ret >= 0 && proc.ResultIsFD(ev) {
		return appendFDArg(c, dst, ev.Ret, false)
	}
	return appendResult(dst, c.Event.Ret)
}

// appendFDArg renders an fd other than the event's own as Falco does,
// with what the process's fd table says about it: 4(<p>pipe:[123]), or
// the number alone.
func appendFDArg(c *Context, dst []byte, fd int64, before bool) []byte {
	dst = strconv.AppendInt(dst, fd, 10)
	if fd < 0 || fd > 1<<31-1 {
		return dst
	}
	e, ok := c.fdsAt(before).Lookup(int32(fd))
	if !ok {
		return dst
	}
	var v fdView
	v.fromEntry(fd, e)
	dst = append(append(append(dst, "(<"...), v.typeChar()...), v.l4Char()...)
	return append(appendTuple(append(dst, '>'), &v), ')')
}

// slotPair reads the two fds of an FDPAIR slot.
func slotPair(ev *event.Event) (r, w int32, ok bool) {
	for i := range ev.Sys.Slots {
		s := &ev.Sys.Slots[i]
		if s.Type == event.SlotType(syscalls.SlotFDPair) && len(s.Value) == 8 {
			return le32(s.Value), le32(s.Value[4:]), true
		}
	}
	return 0, 0, false
}

// le32 reads a little-endian int32 from the start of s.
func le32(s string) int32 {
	return int32(uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24)
}

func appendPairFD(c *Context, dst []byte, which int) []byte {
	r, w, ok := slotPair(c.Event)
	if !ok {
		return dst
	}
	fd := r
	if which == 1 {
		fd = w
	}
	return appendFDArg(c, dst, int64(fd), false)
}

// appendRawSockaddr renders a struct sockaddr as the process passed it:
// ip:port, a unix path (abstract names with a leading @), or the family
// number for others.
func appendRawSockaddr(dst []byte, sa string) []byte {
	if len(sa) < 2 {
		return dst
	}
	family := uint16(sa[0]) | uint16(sa[1])<<8
	switch {
	case family == unix.AF_INET && len(sa) >= 8:
		port := uint16(sa[2])<<8 | uint16(sa[3])
		return appendEndpoint(dst, netip.AddrPortFrom(netip.AddrFrom4([4]byte{sa[4], sa[5], sa[6], sa[7]}), port))
	case family == unix.AF_INET6 && len(sa) >= 24:
		port := uint16(sa[2])<<8 | uint16(sa[3])
		var a [16]byte
		copy(a[:], sa[8:24])
		return appendEndpoint(dst, netip.AddrPortFrom(netip.AddrFrom16(a), port))
	case family == unix.AF_UNIX:
		path := sa[2:]
		if len(path) > 0 && path[0] == 0 {
			return append(append(dst, '@'), cutAtNUL(path[1:])...)
		}
		return append(dst, cutAtNUL(path)...)
	}
	return strconv.AppendUint(append(dst, "family="...), uint64(family), 10)
}

func cutAtNUL(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return s[:i]
		}
	}
	return s
}

// appendPrintable renders a buffer as Falco prints one: printable ASCII
// as is, anything else as a dot.
func appendPrintable(dst []byte, b string) []byte {
	for i := 0; i < len(b); i++ {
		if c := b[i]; c >= 0x20 && c < 0x7f {
			dst = append(dst, c)
		} else {
			dst = append(dst, '.')
		}
	}
	return dst
}

// eventBuffer is evt.buffer: the payload bytes of a read, write,
// sendto or recvfrom, when payload capture copied them.
func eventBuffer(c *Context) (string, bool) {
	ev := c.Event
	if ev.Kind != event.KindSyscall {
		return "", false
	}
	for i := range ev.Sys.Slots {
		if s := &ev.Sys.Slots[i]; s.Type == event.SlotType(syscalls.SlotBuf) {
			return s.Value, true
		}
	}
	return "", false
}
