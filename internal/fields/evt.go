package fields

import (
	"strconv"

	"github.com/vigilsec/vigil/internal/event"
)

// typeName returns evt.type, computed once per event.
func (c *Context) typeName() string {
	if c.done&(1<<slotTypeName) == 0 {
		c.strs[slotTypeName], c.done = c.Event.TypeName(), c.done|1<<slotTypeName
	}
	return c.strs[slotTypeName]
}

// hasResult says the event is a syscall exit with a return value: fork
// and procexit come from scheduler hooks and have none.
func (c *Context) hasResult() bool {
	k := c.Event.Kind
	return k == event.KindExec || k == event.KindOpen || k == event.KindSocket || k == event.KindSyscall
}

func (c *Context) wallNanos() uint64 {
	return uint64(c.Env.Clock.Wall(c.Event.Timestamp).UnixNano())
}

func registerEvt(r *Registry) {
	r.add("evt.type", "the event type: the syscall name (openat, connect, execve, ...), fork or procexit",
		str(func(c *Context) (string, bool) { return c.typeName(), true }))
	r.add("evt.dir", "the event direction; always < because Vigil captures syscalls at exit",
		str(func(*Context) (string, bool) { return "<", true }))
	r.add("evt.num", "the event number, unique within the agent",
		num(func(c *Context) (uint64, bool) { return c.Num, true }))
	r.add("evt.time", "the event's wall-clock time in nanoseconds since the epoch",
		num(func(c *Context) (uint64, bool) { return c.wallNanos(), true }))
	r.add("evt.rawtime", "the same as evt.time",
		num(func(c *Context) (uint64, bool) { return c.wallNanos(), true }))
	r.add("evt.time.iso8601", "the event's wall-clock time as 2006-01-02T15:04:05.000000000Z",
		str(func(c *Context) (string, bool) { return c.memo(slotTime, appendISOTime), true }))
	r.add("evt.hostname", "the name of the host the agent runs on",
		str(func(c *Context) (string, bool) { return c.Env.Hostname, c.Env.Hostname != "" }))
	r.add("evt.res", "SUCCESS, or the error name (ENOENT, EACCES, ...) of a failed syscall",
		str(func(c *Context) (string, bool) {
			if !c.hasResult() {
				return "", false
			}
			if c.Event.Ret >= 0 {
				return "SUCCESS", true
			}
			if name := errnoName(c.Event.Ret); name != "" {
				return name, true
			}
			return c.render(func(dst []byte) []byte { return strconv.AppendInt(dst, c.Event.Ret, 10) }), true
		}))
	r.add("evt.rawres", "the syscall's return value: an fd, 0, or a negative errno",
		integer(func(c *Context) (int64, bool) { return c.Event.Ret, c.hasResult() }))
	r.add("evt.failed", "true when the syscall returned an error",
		boolean(func(c *Context) (bool, bool) { return c.Event.Ret < 0, c.hasResult() }))
	r.add("evt.is_open_read", "for open events, true when the file was opened for reading",
		boolean(func(c *Context) (bool, bool) {
			acc := c.Event.Open.Flags & oAccMode
			return acc == 0 || acc == oRdwr, c.Event.Kind == event.KindOpen
		}))
	r.add("evt.is_open_write", "for open events, true when the file was opened for writing",
		boolean(func(c *Context) (bool, bool) {
			acc := c.Event.Open.Flags & oAccMode
			return acc == oWronly || acc == oRdwr, c.Event.Kind == event.KindOpen
		}))
	r.add("evt.is_open_exec", "for open events, true when a file is created with execute permission",
		boolean(func(c *Context) (bool, bool) {
			o := &c.Event.Open
			return (o.Flags&oCreat != 0 || o.Flags&oTmpfile == oTmpfile) && o.Mode&0o111 != 0, c.Event.Kind == event.KindOpen
		}))
}

func appendISOTime(c *Context, dst []byte) []byte {
	return c.Env.Clock.Wall(c.Event.Timestamp).AppendFormat(dst, "2006-01-02T15:04:05.000000000Z")
}
