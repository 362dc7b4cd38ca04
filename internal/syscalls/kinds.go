package syscalls

import "sort"

// kindHandlers says which dedicated handlers produce each event kind that
// comes from syscalls. The kinds are named as event.Kind's String names
// them.
var kindHandlers = map[string][]Handler{
	"exec":   {Execve, ExecveAt},
	"open":   {Open, OpenAt, OpenAt2, Creat},
	"socket": {Connect, Accept, Bind, Listen},
}

// ForKind returns the syscalls the kernel filter must capture for events of
// one kind (exec, open, socket, fork, exit or syscall, as event.Kind names
// them), sorted, and false for a name that is not an event kind. fork and
// exit come from scheduler hooks and need none; syscall means every
// generic and dedicated syscall captured by default (see Default).
func ForKind(kind string) ([]string, bool) {
	switch kind {
	case "fork", "exit":
		return nil, true
	case "syscall":
		return Default(), true
	}
	hs, ok := kindHandlers[kind]
	if !ok {
		return nil, false
	}
	var out []string
	for name, h := range handlers {
		for _, want := range hs {
			if h == want {
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out, true
}
