package fields

import (
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/proc"
)

// Syscalls whose pid argument names another process, and where it is.
var (
	nrKill, nrTgkill, nrPtrace, nrPidfdOpen = sysnr("kill"), sysnr("tgkill"), sysnr("ptrace"), sysnr("pidfd_open")
)

// targetPID returns the process a kill, tgkill, ptrace or pidfd_open names.
// Process groups (kill with pid <= 0) name no single process.
func targetPID(c *Context) (uint32, bool) {
	ev := c.Event
	if ev.Kind != event.KindSyscall {
		return 0, false
	}
	var raw uint64
	switch ev.Syscall {
	case nrKill, nrTgkill, nrPidfdOpen:
		raw = ev.Sys.Args[0]
	case nrPtrace:
		raw = ev.Sys.Args[1]
	default:
		return 0, false
	}
	pid := int32(uint32(raw))
	return uint32(pid), pid > 0
}

// target looks the target up in the process table, then among the
// recently exited: a signal that kills its target is often handled after
// the target's exit, which another pipeline worker applies.
func (c *Context) target() (proc.Process, bool) {
	pid, ok := targetPID(c)
	if !ok || c.Env.Table == nil {
		return proc.Process{}, false
	}
	p, found := c.Env.Table.Get(pid)
	if !found {
		p, found = c.Env.Table.Exited(pid)
	}
	return p, found && p.Image != nil
}

// registerTarget adds evt.target.*: the process another process acts on
// through a signal, ptrace or a pidfd. Rules use it to protect named
// processes (Vigil itself, say) without knowing their pids.
func registerTarget(r *Registry) {
	r.add("evt.target.pid", "the process a kill, tgkill, ptrace or pidfd_open names (its pid argument)",
		num(func(c *Context) (uint64, bool) {
			pid, ok := targetPID(c)
			return uint64(pid), ok
		}))
	r.add("evt.target.name", "the name (comm) of the process evt.target.pid names, from the process table",
		str(func(c *Context) (string, bool) {
			if p, ok := c.target(); ok && p.Comm != "" {
				return p.Comm, true
			}
			return "", false
		}))
	r.add("evt.target.exepath", "the executable of the process evt.target.pid names, from the process table",
		str(func(c *Context) (string, bool) {
			if p, ok := c.target(); ok && p.Exe != "" {
				return p.Exe, true
			}
			return "", false
		}))
}
