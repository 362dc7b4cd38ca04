package fields

import (
	"net/netip"
	"strconv"

	"github.com/vigilsec/vigil/internal/event"
)

// Socket families and types as the kernel numbers them.
const (
	afUnix     = 1
	afInet     = 2
	afInet6    = 10
	sockStream = 1
	sockDgram  = 2
	sockRaw    = 3
)

// fdEnd selects one end of a connection for the quantified fd.ip,
// fd.port and fd.net.
type fdEnd uint8

const (
	fdDefault fdEnd = iota // not iterating: the field's single value
	fdClient
	fdServer
)

func (c *Context) isSocket() bool { return c.Event.Kind == event.KindSocket }

func (c *Context) isIP() bool {
	f := c.Event.Socket.Family
	return c.isSocket() && (f == afInet || f == afInet6)
}

// fdNum is the fd the event is about: the one an open or accept created,
// or the socket connect, bind and listen worked on.
func (c *Context) fdNum() (int64, bool) {
	ev := c.Event
	switch {
	case ev.Kind == event.KindOpen || ev.Kind == event.KindSocket && ev.Socket.Op == event.OpAccept:
		return ev.Ret, ev.Ret >= 0
	case ev.Kind == event.KindSocket:
		return int64(ev.Socket.FD), true
	}
	return 0, false
}

// fdTypeChar is Falco's one-letter fd type, "" for events without an fd.
func (c *Context) fdTypeChar() string {
	ev := c.Event
	switch ev.Kind {
	case event.KindOpen:
		if ev.Open.Flags&oDirectory != 0 && ev.Open.Flags&oTmpfile != oTmpfile {
			return "d"
		}
		return "f"
	case event.KindSocket:
		switch ev.Socket.Family {
		case afInet:
			return "4"
		case afInet6:
			return "6"
		case afUnix:
			return "u"
		}
	}
	return ""
}

var fdTypeNames = map[string]string{"f": "file", "d": "directory", "4": "ipv4", "6": "ipv6", "u": "unix"}

// l4proto names the transport protocol of an IP socket.
func (c *Context) l4proto() string {
	s := &c.Event.Socket
	switch s.Protocol {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 1, 58:
		return "icmp"
	case 0:
		switch s.Type {
		case sockStream:
			return "tcp"
		case sockDgram:
			return "udp"
		}
	}
	if s.Type == sockRaw {
		return "raw"
	}
	return ""
}

// l4Char is the protocol letter Falco adds to an IP socket's type in
// evt.args: <4t> for TCP over IPv4.
func (c *Context) l4Char() string {
	if !c.isIP() {
		return ""
	}
	switch c.l4proto() {
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

// server and client are the connection's ends as Falco assigns them: for
// connect the local end is the client, for accept the server; a bound or
// listening socket is a server with no client.
func (c *Context) server() (netip.AddrPort, bool) {
	s := &c.Event.Socket
	if !c.isIP() {
		return netip.AddrPort{}, false
	}
	if s.Op == event.OpConnect {
		return s.Remote, s.Remote.IsValid()
	}
	return s.Local, s.Local.IsValid()
}

func (c *Context) client() (netip.AddrPort, bool) {
	s := &c.Event.Socket
	if !c.isIP() {
		return netip.AddrPort{}, false
	}
	switch s.Op {
	case event.OpConnect:
		return s.Local, s.Local.IsValid()
	case event.OpAccept:
		return s.Remote, s.Remote.IsValid()
	}
	return netip.AddrPort{}, false
}

func (c *Context) local() (netip.AddrPort, bool) {
	return c.Event.Socket.Local, c.isIP() && c.Event.Socket.Local.IsValid()
}

func (c *Context) remote() (netip.AddrPort, bool) {
	return c.Event.Socket.Remote, c.isIP() && c.Event.Socket.Remote.IsValid()
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
	ev := c.Event
	switch ev.Kind {
	case event.KindOpen:
		return ev.Open.Path
	case event.KindSocket:
		if ev.Socket.Family == afUnix {
			if ev.Socket.RemotePath != "" && ev.Socket.Op != event.OpBind && ev.Socket.Op != event.OpListen {
				return ev.Socket.RemotePath
			}
			return ev.Socket.LocalPath
		}
		return c.memo(slotFDName, appendTuple)
	}
	return ""
}

// appendTuple renders an IP connection as Falco does, client first:
// 10.0.0.1:43210->10.0.0.2:443. A socket with no client renders its
// server end alone.
func appendTuple(c *Context, dst []byte) []byte {
	if c.Event.Socket.Family == afUnix {
		return append(dst, c.fdName()...)
	}
	if cl, ok := c.client(); ok {
		dst = append(appendEndpoint(dst, cl), "->"...)
	}
	if sv, ok := c.server(); ok {
		dst = appendEndpoint(dst, sv)
	}
	return dst
}

// appendSockAddr renders the address the call named: the peer for
// connect, the local address for bind and others.
func appendSockAddr(c *Context, dst []byte) []byte {
	s := &c.Event.Socket
	if s.Family == afUnix {
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
