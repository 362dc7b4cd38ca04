package fields

import (
	"net/netip"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/rules/compile"
)

// The standard fds of a process, proc.stdin.* and friends. On an exec
// event the kernel's exec hook says what fds 0, 1 and 2 of the new
// program are (event.Exec.Stdio), which needs no fd table: a rule that
// only matches execs and reads their type or remote end costs nothing
// more. Other events, and names, come from the fd table.

// stdioFDTypes maps the kernel's standard fd types to the fd table's.
var stdioFDTypes = [...]proc.FDType{
	event.StdioFile: proc.FDFile, event.StdioDir: proc.FDDirectory, event.StdioPipe: proc.FDPipe,
	event.StdioIPv4: proc.FDIPv4, event.StdioIPv6: proc.FDIPv6, event.StdioUnix: proc.FDUnix,
	event.StdioOther: proc.FDUnknown,
}

// execStdio returns what the exec hook saw of fd, when the event is an
// exec that carries it.
func (c *Context) execStdio(fd int32) (event.StdioType, bool) {
	x := &c.Event.Exec
	if c.Event.Kind != event.KindExec || x.Flags&event.ExecStdio == 0 {
		return 0, false
	}
	return x.Stdio.Type[fd], true
}

// stdioType returns the type of fd 0, 1 or 2: the exec hook's on an exec,
// the fd table's otherwise and for kinds the hook cannot tell (eventfd,
// memfd, ... come out of it as other or file).
func (c *Context) stdioType(fd int32) (proc.FDType, bool) {
	if t, ok := c.execStdio(fd); ok {
		if t == event.StdioNone {
			return proc.FDUnknown, false
		}
		if int(t) < len(stdioFDTypes) && stdioFDTypes[t] != proc.FDUnknown {
			return stdioFDTypes[t], true
		}
	}
	e, ok := c.stdFD(fd)
	if !ok {
		return proc.FDUnknown, false
	}
	return e.Type, true
}

// stdioRemote returns the remote end of fd 0, 1 or 2 when it is an IP
// socket: from the exec hook on an exec, from the fd table otherwise.
func (c *Context) stdioRemote(fd int32) (netip.AddrPort, bool) {
	if t, ok := c.execStdio(fd); ok {
		s := &c.Event.Exec.Stdio
		if s.Addr[fd] {
			return s.Remote, true
		}
		if t != event.StdioIPv4 && t != event.StdioIPv6 {
			return netip.AddrPort{}, false
		}
		// A second IP socket: the hook keeps one socket's ends only.
	}
	e, ok := c.stdFD(fd)
	if !ok || !e.IsIP() || !e.Remote.IsValid() {
		return netip.AddrPort{}, false
	}
	return e.Remote, true
}

func registerStdio(r *Registry) {
	r.add("proc.fdopencount", "the number of fds the process has open, as the fd table knows them",
		num(func(c *Context) (uint64, bool) {
			return uint64(c.fdsAt(false).Len()), c.Found && c.Proc.Files != nil
		}))
	for fd, name := range [...]string{"stdin", "stdout", "stderr"} {
		fd := int32(fd)
		which := "the process's " + name + " (fd " + string(rune('0'+fd)) + ")"
		r.add("proc."+name+".type", "the type of "+which+": file, pipe, ipv4, unix, ...; on an exec, as the program started",
			str(func(c *Context) (string, bool) {
				t, ok := c.stdioType(fd)
				s := t.String()
				return s, ok && s != ""
			}))
		r.add("proc."+name+".name", "the name of "+which+": a path, client:port->server:port, pipe:[INODE], ...",
			str(func(c *Context) (string, bool) {
				e, ok := c.stdFD(fd)
				if !ok {
					return "", false
				}
				return c.render(func(dst []byte) []byte { return appendEntryName(dst, int64(fd), e) }), true
			}))
		remote := func(c *Context) (netip.AddrPort, bool) { return c.stdioRemote(fd) }
		r.add("proc."+name+".rip", "the remote address of "+which+" when it is an IP socket; on an exec, as the program started",
			compile.AddrField(addrOf(remote)))
		r.add("proc."+name+".rport", "the remote port of "+which+" when it is an IP socket; on an exec, as the program started",
			num(portOf(remote)))
		r.add("proc."+name+".rnet", "the remote address of "+which+", compared with networks such as 10.0.0.0/8",
			netOf(remote))
	}
}
