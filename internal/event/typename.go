package event

import "github.com/vigilsec/vigil/internal/syscalls"

// TypeName is the event type (evt.type) as rules and users name it: the
// syscall name for syscall events, "execve"/"execveat" for exec, "procfork" for a new
// process or thread seen by the scheduler (the fork, vfork, clone and clone3
// syscalls keep their own names) and "procexit" for the end of a process
// (as in Falco).
func (ev *Event) TypeName() string {
	switch ev.Kind {
	case KindFork:
		return "procfork"
	case KindExit:
		return "procexit"
	case KindExec:
		if ev.Syscall < 0 {
			return "execve"
		}
	}
	if name := syscalls.Name(ev.Syscall); name != "" {
		return name
	}
	return ev.Kind.String()
}
