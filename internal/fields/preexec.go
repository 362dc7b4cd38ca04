package fields

import "github.com/vigilsec/vigil/internal/event"

// ResetPreExec points the context at an exec that has not happened yet, so
// that rules can decide on it before the new program runs (enforcement
// answers a fanotify permission event this way). ev describes the exec as
// the sensor would report it after success: Kind exec, Ret 0, the new
// program's Exe, Filename and Args. The process keeps what the table knows
// of it — ancestry, cgroup, ids, working directory, terminal — with the new
// program's name, path and argv, which is what proc.* fields will say once
// the exec completes. Ids that a set-user-ID program would change are the
// caller's, as they are until the kernel commits the exec.
func (c *Context) ResetPreExec(env *Env, ev *event.Event, num uint64) {
	x := &ev.Exec
	c.ResetProgram(env, ev, num, ev.Comm, x.Exe, x.Args, x.Cwd)
	if c.Found {
		// The new program's flags and loader environment are the event's
		// (unknown before the exec, so none), not the caller's.
		c.img.ExecTime, c.img.Flags, c.img.LoaderEnv = ev.Timestamp, x.Flags, x.LoaderEnv
	}
}

// ResetProgram points the context at ev like Reset, but with the process
// running the given program (task name, executable, NUL-separated argv,
// and working directory when not ""), whatever the table says. Decisions
// taken outside the event stream use it when they know the program better
// than the table does: the table may not have applied an exec the kernel
// already completed.
func (c *Context) ResetProgram(env *Env, ev *event.Event, num uint64, comm, exe, args, cwd string) {
	c.Reset(env, ev, num)
	if !c.Found {
		return // Reset built the image from the event itself
	}
	img := *c.Proc.Image
	img.Comm, img.Exe, img.Args = comm, exe, args
	if cwd != "" {
		img.Cwd = cwd
	}
	c.img = img
	c.Proc.Image = &c.img
	c.known = true
}
