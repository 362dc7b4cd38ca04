package fields

import (
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/proc"
)

// image returns the process's image when it is known: from the table, or
// from an exec event that carries it.
func (c *Context) image() (*proc.Image, bool) { return c.Proc.Image, c.known }

func imgStr(get func(*proc.Image) string) Field {
	return str(func(c *Context) (string, bool) {
		im, ok := c.image()
		return get(im), ok
	})
}

func imgNum(get func(*proc.Image) uint64) Field {
	return num(func(c *Context) (uint64, bool) {
		im, ok := c.image()
		return get(im), ok
	})
}

func imgBool(get func(*proc.Image) bool) Field {
	return boolean(func(c *Context) (bool, bool) {
		im, ok := c.image()
		return get(im), ok
	})
}

func registerProc(r *Registry) {
	r.add("proc.pid", "the process id (thread-group id)",
		num(func(c *Context) (uint64, bool) { return uint64(c.Event.PID), true }))
	r.add("proc.ppid", "the parent's process id",
		num(func(c *Context) (uint64, bool) { return uint64(c.Proc.PPID), c.Proc.PPID != 0 }))
	r.add("proc.name", "the process name (task comm, at most 15 characters)",
		str(func(c *Context) (string, bool) { return c.Proc.Comm, c.Proc.Comm != "" }))
	r.add("proc.exe", "the first command-line argument (argv[0])",
		imgStr(func(im *proc.Image) string { return argv0(im.Args) }))
	r.add("proc.exepath", "the full path of the executable",
		imgStr(func(im *proc.Image) string { return im.Exe }))
	r.add("proc.cmdline", "the process name followed by its arguments: bash -c 'id'",
		str(func(c *Context) (string, bool) { return c.memo(slotCmdline, appendOwnCmdline), true }))
	r.add("proc.exeline", "argv[0] followed by the arguments",
		str(func(c *Context) (string, bool) {
			_, ok := c.image()
			return c.memo(slotExeline, appendOwnExeline), ok
		}))
	r.add("proc.args", "the arguments after argv[0], separated by spaces",
		str(func(c *Context) (string, bool) {
			_, ok := c.image()
			return c.memo(slotArgs, func(c *Context, dst []byte) []byte { return appendArgs(dst, c.Proc.Args) }), ok
		}))
	r.add("proc.cwd", "the working directory at the last exec",
		imgStr(func(im *proc.Image) string { return im.Cwd }))
	r.add("proc.tty", "the controlling terminal (as /proc/PID/stat encodes it), 0 for none",
		imgNum(func(im *proc.Image) uint64 { return uint64(im.TTY) }))
	r.add("proc.sid", "the session id: the pid of the session leader",
		imgNum(func(im *proc.Image) uint64 { return uint64(im.SID) }))
	r.add("proc.vpgid", "the process group id (host pid namespace)",
		imgNum(func(im *proc.Image) uint64 { return uint64(im.PGID) }))
	r.add("proc.sname", "the name of the session leader",
		str(func(c *Context) (string, bool) {
			im, ok := c.image()
			if !ok || im.SID == 0 {
				return "", false
			}
			return c.processName(im.SID)
		}))
	r.add("proc.duration", "nanoseconds since the process started",
		num(func(c *Context) (uint64, bool) {
			st, ts := c.Proc.StartTime, c.Event.Timestamp
			return ts - st, st != 0 && ts >= st
		}))
	r.add("proc.is_exe_from_memfd", "true when the executable is a memfd (fileless execution)",
		imgBool(func(im *proc.Image) bool { return im.Flags&event.ExecFromMemfd != 0 }))
	r.add("proc.is_exe_upper_layer", "true when the executable lives on an overlayfs upper layer",
		imgBool(func(im *proc.Image) bool { return im.Flags&event.ExecUpperLayer != 0 }))
	r.add("proc.is_vpgid_leader", "true when the process leads its process group",
		boolean(func(c *Context) (bool, bool) { im, ok := c.image(); return im.PGID == c.Event.PID, ok }))
	r.add("proc.is_sid_leader", "true when the process leads its session",
		boolean(func(c *Context) (bool, bool) { im, ok := c.image(); return im.SID == c.Event.PID, ok }))
	r.add("thread.tid", "the thread id",
		num(func(c *Context) (uint64, bool) { return uint64(c.Event.TID), true }))
	r.add("thread.cap_effective", "the effective capabilities, as CAP_ names separated by spaces",
		str(func(c *Context) (string, bool) {
			_, ok := c.image()
			return c.memo(slotCapEffective, func(c *Context, dst []byte) []byte { return appendCaps(dst, c.Proc.CapEffective) }), ok
		}))
	r.add("thread.cap_permitted", "the permitted capabilities, as CAP_ names separated by spaces",
		str(func(c *Context) (string, bool) {
			_, ok := c.image()
			return c.memo(slotCapPermitted, func(c *Context, dst []byte) []byte { return appendCaps(dst, c.Proc.CapPermitted) }), ok
		}))
}

func appendOwnCmdline(c *Context, dst []byte) []byte {
	return appendCmdline(dst, c.Proc.Comm, c.Proc.Args)
}

func appendOwnExeline(c *Context, dst []byte) []byte {
	return appendCmdline(dst, argv0(c.Proc.Args), c.Proc.Args)
}

// processName looks a process up by pid for its name.
func (c *Context) processName(pid uint32) (string, bool) {
	if pid == c.Event.PID {
		return c.Proc.Comm, true
	}
	if c.Env.Table == nil {
		return "", false
	}
	p, ok := c.Env.Table.Get(pid)
	return p.Comm, ok
}
