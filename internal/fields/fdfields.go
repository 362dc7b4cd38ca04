package fields

import (
	"net/netip"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/rules/compile"
)

// endpoint is a getter for one end of a connection.
type endpoint func(*Context) (netip.AddrPort, bool)

func addrOf(e endpoint) func(*Context) (netip.Addr, bool) {
	return func(c *Context) (netip.Addr, bool) {
		ap, ok := e(c)
		return ap.Addr().Unmap(), ok
	}
}

func portOf(e endpoint) func(*Context) (uint64, bool) {
	return func(c *Context) (uint64, bool) {
		ap, ok := e(c)
		return uint64(ap.Port()), ok
	}
}

func netOf(e endpoint) Field {
	return Field{Type: compile.TypeIPNet, Addr: addrOf(e)}
}

func registerFD(r *Registry) {
	hasFD := func(c *Context) bool { return c.fd().described }
	r.add("fd.num", "the fd the event is about: the one it created (open, accept, socket, dup) or used (connect, read, close, ...)",
		integer(func(c *Context) (int64, bool) { v := c.fd(); return v.num, v.hasNum }))
	r.add("fd.name", "the file's absolute path, client:port->server:port for an IP socket, or a unix socket's path",
		str(func(c *Context) (string, bool) { return c.fdName(), hasFD(c) }))
	r.add("fd.nameraw", "the path as the process passed it to open; for other fds the same as fd.name",
		str(func(c *Context) (string, bool) {
			if c.Event.Kind == event.KindOpen {
				return c.Event.Open.RawPath, true
			}
			return c.fdName(), hasFD(c)
		}))
	isPath := func(v *fdView) bool {
		return v.has && v.name != "" && (v.typ == proc.FDFile || v.typ == proc.FDDirectory)
	}
	r.add("fd.directory", "the directory of a file",
		str(func(c *Context) (string, bool) { v := c.fd(); return dir(v.name), isPath(v) }))
	r.add("fd.filename", "the base name of a file",
		str(func(c *Context) (string, bool) { v := c.fd(); return base(v.name), isPath(v) }))
	r.add("fd.typechar", "the fd type as one letter: f file, d directory, 4 IPv4, 6 IPv6, u unix socket, p pipe, e eventfd, m memfd, ...",
		str(func(c *Context) (string, bool) { t := c.fd().typeChar(); return t, t != "" }))
	r.add("fd.type", "the fd type: file, directory, ipv4, ipv6, unix, pipe, event, signalfd, eventpoll, inotify, timerfd, netlink, bpf, userfaultfd, io_uring, memfd, pidfd",
		str(func(c *Context) (string, bool) {
			v := c.fd()
			t := v.typ.String()
			return t, v.described && t != ""
		}))
	r.add("fd.l4proto", "the transport protocol of an IP socket: tcp, udp, icmp, raw",
		str(func(c *Context) (string, bool) { p := c.fd().l4proto(); return p, p != "" }))
	r.add("fd.sockfamily", "ip for IPv4 and IPv6 sockets, unix for unix sockets",
		str(func(c *Context) (string, bool) {
			v := c.fd()
			switch {
			case v.isIP():
				return "ip", true
			case v.typ == proc.FDUnix:
				return "unix", true
			}
			return "", false
		}))
	r.add("fd.connected", "true when the socket is connected: a successful connect or accept",
		boolean(func(c *Context) (bool, bool) { v := c.fd(); return v.connected, v.socket }))

	ends := []struct {
		prefix, desc string
		get          endpoint
	}{
		{"s", "server", (*Context).server},
		{"c", "client", (*Context).client},
		{"l", "local", (*Context).local},
		{"r", "remote", (*Context).remote},
	}
	for _, e := range ends {
		r.add("fd."+e.prefix+"ip", "the "+e.desc+" address of an IP connection", compile.AddrField(addrOf(e.get)))
		r.add("fd."+e.prefix+"port", "the "+e.desc+" port of an IP connection", num(portOf(e.get)))
		r.add("fd."+e.prefix+"net", "the "+e.desc+" address, compared with networks such as 10.0.0.0/8", netOf(e.get))
	}

	// fd.ip, fd.port and fd.net match either end, as in Falco; rendered
	// they show the server's.
	any := func(f Field) Field { f.Any = anyEnd; return f }
	r.add("fd.ip", "either address of an IP connection (renders the server's)", any(compile.AddrField(addrOf((*Context).end))))
	r.add("fd.port", "either port of an IP connection (renders the server's)", any(num(portOf((*Context).end))))
	r.add("fd.net", "either address, compared with networks (renders the server's)", any(netOf((*Context).end)))
}
