package fields

import (
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/proc"
)

// fdEnd selects one end of a connection for the quantified fd.ip,
// fd.port and fd.net.
type fdEnd uint8

const (
	fdDefault fdEnd = iota // not iterating: the field's single value
	fdClient
	fdServer
)

// fdView is what fd.* fields see: the event's own description of the fd
// it is about, or, for events that only name an fd, the process's fd
// table entry for it. It is built once per event.
type fdView struct {
	has       bool // the event is about an fd (or a path it failed to open)
	described bool // the event or the fd table says what the fd is
	hasNum    bool
	num       int64
	typ       proc.FDType
	name      string // files, directories, unix sockets, pipes...; not IP sockets
	rawName   string // the path as passed to open

	socket    bool // fd.connected and the tuple fields apply
	connected bool
	family    uint16
	proto     uint8
	sockType  uint8
	role      proc.FDRole
	local     netip.AddrPort
	remote    netip.AddrPort
}

// fd returns the event's fd view, building it on first use.
func (c *Context) fd() *fdView {
	if c.fdDone {
		return &c.fdv
	}
	c.fdDone = true
	v := &c.fdv
	*v = fdView{}
	ev := c.Event
	switch ev.Kind {
	case event.KindOpen:
		v.has, v.described, v.name, v.rawName, v.typ = true, true, ev.Open.Path, ev.Open.RawPath, proc.FDFile
		if ev.Open.Flags&oDirectory != 0 && ev.Open.Flags&oTmpfile != oTmpfile {
			v.typ = proc.FDDirectory
		}
		v.num, v.hasNum = ev.Ret, ev.Ret >= 0
	case event.KindSocket:
		c.socketView(v)
	case event.KindSyscall:
		c.syscallView(v)
	}
	return v
}

// socketView describes the fd of a socket event from the event itself.
func (c *Context) socketView(v *fdView) {
	ev := c.Event
	s := &ev.Socket
	v.has, v.described, v.socket = true, true, true
	v.typ = familyType(s.Family)
	v.family, v.proto, v.sockType = s.Family, uint8(s.Protocol), uint8(s.Type)
	v.local, v.remote = s.Local, s.Remote
	v.role = proc.RoleServer
	switch s.Op {
	case event.OpConnect:
		v.role = proc.RoleClient
		v.connected = ev.Ret >= 0
		v.num, v.hasNum = int64(s.FD), true
	case event.OpAccept:
		v.connected = ev.Ret >= 0
		v.num, v.hasNum = ev.Ret, ev.Ret >= 0
	default:
		v.num, v.hasNum = int64(s.FD), true
	}
	if s.Family == unix.AF_UNIX {
		v.name = s.LocalPath
		if s.RemotePath != "" && s.Op != event.OpBind && s.Op != event.OpListen {
			v.name = s.RemotePath
		}
	}
}

// familyType maps an address family to the fd type of its sockets.
func familyType(family uint16) proc.FDType {
	switch family {
	case unix.AF_INET:
		return proc.FDIPv4
	case unix.AF_INET6:
		return proc.FDIPv6
	case unix.AF_UNIX:
		return proc.FDUnix
	case unix.AF_NETLINK:
		return proc.FDNetlink
	}
	return proc.FDUnknown
}

// fromEntry describes fd num from a process fd table entry.
func (v *fdView) fromEntry(num int64, e *proc.FD) {
	v.has, v.described, v.hasNum, v.num, v.typ, v.name = true, true, true, num, e.Type, e.Name
	if !e.Type.IsSocket() {
		return
	}
	v.socket, v.connected = true, e.Flags&proc.FDConnected != 0
	v.family, v.proto, v.sockType, v.role = e.Family, e.Proto, e.SockType, e.Role
	v.local, v.remote = e.Local, e.Remote
	if v.role == proc.RoleNone && e.Remote.IsValid() {
		v.role = proc.RoleClient
	}
}

func (v *fdView) isIP() bool { return v.typ == proc.FDIPv4 || v.typ == proc.FDIPv6 }

// l4proto names the transport protocol of an IP socket.
func (v *fdView) l4proto() string {
	if !v.isIP() {
		return ""
	}
	return proc.L4Name(v.proto, v.sockType)
}

// l4Char is the protocol letter Falco adds to an IP socket's type in
// evt.args: <4t> for TCP over IPv4.
func (v *fdView) l4Char() string {
	switch v.l4proto() {
	case "tcp":
		return "t"
	case "udp":
		return "u"
	case "icmp":
		return "i"
	case "raw":
		return "r"
	}
	return ""
}

// typeChar is Falco's one-letter fd type, "" for events without an fd or
// whose fd nobody described.
func (v *fdView) typeChar() string {
	if !v.described {
		return ""
	}
	return v.typ.Char()
}

// server and client are the connection's ends as Falco assigns them: for
// a client (connect) the local end is the client, for a server (accept,
// bind, listen) the local end is the server; a bound or listening socket
// has no client.
func (v *fdView) server() (netip.AddrPort, bool) {
	if !v.isIP() {
		return netip.AddrPort{}, false
	}
	if v.role == proc.RoleClient {
		return v.remote, v.remote.IsValid()
	}
	return v.local, v.local.IsValid()
}

func (v *fdView) client() (netip.AddrPort, bool) {
	if !v.isIP() {
		return netip.AddrPort{}, false
	}
	if v.role == proc.RoleClient {
		return v.local, v.local.IsValid()
	}
	return v.remote, v.remote.IsValid()
}

func (c *Context) server() (netip.AddrPort, bool) { return c.fd().server() }
func (c *Context) client() (netip.AddrPort, bool) { return c.fd().client() }

func (c *Context) local() (netip.AddrPort, bool) {
	v := c.fd()
	return v.local, v.isIP() && v.local.IsValid()
}

func (c *Context) remote() (netip.AddrPort, bool) {
	v := c.fd()
	return v.remote, v.isIP() && v.remote.IsValid()
}

// end returns the end a quantified field looks at: the one the cursor
// names, or by default the server.
func (c *Context) end() (netip.AddrPort, bool) {
	if c.fdCursor == fdClient {
		return c.client()
	}
	return c.server()
}

// anyEnd runs test with the cursor on the client, then on the server end.
func anyEnd(c *Context, test func(*Context) bool) bool {
	defer func() { c.fdCursor = fdDefault }()
	for _, e := range [...]fdEnd{fdClient, fdServer} {
		c.fdCursor = e
		if test(c) {
			return true
		}
	}
	return false
}

// fdName is fd.name: the path for files, client:port->server:port for IP
// sockets, the path for unix sockets.
func (c *Context) fdName() string {
	v := c.fd()
	if v.isIP() {
		return c.memo(slotFDName, func(c *Context, dst []byte) []byte { return appendTuple(dst, c.fd()) })
	}
	return v.name
}

// appendTuple renders an IP connection as Falco does, client first:
// 10.0.0.1:43210->10.0.0.2:443. A socket with no client renders its
// server end alone.
func appendTuple(dst []byte, v *fdView) []byte {
	if !v.isIP() {
		return append(dst, v.name...)
	}
	if cl, ok := v.client(); ok {
		dst = append(appendEndpoint(dst, cl), "->"...)
	}
	if sv, ok := v.server(); ok {
		dst = appendEndpoint(dst, sv)
	}
	return dst
}

// appendSockAddr renders the address a socket call named: the peer for
// connect, the local address for bind and others.
func appendSockAddr(c *Context, dst []byte) []byte {
	s := &c.Event.Socket
	if s.Family == unix.AF_UNIX {
		if s.Op == event.OpConnect {
			return append(dst, s.RemotePath...)
		}
		return append(dst, s.LocalPath...)
	}
	if s.Op == event.OpConnect {
		return appendEndpoint(dst, s.Remote)
	}
	return appendEndpoint(dst, s.Local)
}

// appendEndpoint renders addr:port without IPv6 brackets, as Falco does.
func appendEndpoint(dst []byte, ap netip.AddrPort) []byte {
	if !ap.IsValid() {
		return dst
	}
	dst = ap.Addr().Unmap().AppendTo(dst)
	return strconv.AppendUint(append(dst, ':'), uint64(ap.Port()), 10)
}

// dir and base split a cleaned absolute path the way Falco's fd.directory
// and fd.filename do, without allocating.
func dir(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			if i == 0 {
				return "/"
			}
			return p[:i]
		}
	}
	return ""
}

func base(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}
