package detect

import (
	"slices"
	"strings"

	"github.com/vigilsec/vigil/internal/proc"

	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/syscalls"
)

// The process fd table is only as good as the fd-changing calls the kernel
// captures, and capturing close and friends costs on every process; so the
// filter includes them only when a rule reads the table: through the
// stdio fields, or through fd.* and evt.arg on event types whose fd the
// event itself does not describe.

// fdNamedArgs are the evt.arg.NAME arguments of generic syscalls whose
// rendering consults the process's fd table.
var fdNamedArgs = map[string]bool{"fd": true, "oldfd": true, "newfd": true, "group_fd": true,
	"res": true, "res_or_fd": true, "fds": true, "fd1": true, "fd2": true}

// kernelNamedFields are the fd fields a generic syscall's event answers
// without the fd table when the kernel names the file behind its fd
// argument (a SlotFD slot): ftruncate, fchmod and the like.
var kernelNamedFields = map[string]bool{"fd.name": true, "fd.directory": true, "fd.filename": true}

// stdioPrefixes start the fields of the standard fds.
var stdioPrefixes = [...]string{"proc.stdin.", "proc.stdout.", "proc.stderr."}

// stdioField returns what follows the prefix of a standard fd's field.
func stdioField(name string) (string, bool) {
	for _, p := range stdioPrefixes {
		if rest, ok := strings.CutPrefix(name, p); ok {
			return rest, true
		}
	}
	return "", false
}

// needsFDTable reports whether r reads the fd table.
func needsFDTable(r *Rule) bool {
	var stdio, stdioAtExec, fd, named bool
	visit := func(name string) {
		if rest, ok := stdioField(name); ok {
			// The exec record says what fds 0-2 are and where an IP
			// socket among them leads; names come from the table.
			if strings.HasPrefix(rest, "name") {
				stdio = true
			} else {
				stdioAtExec = true
			}
			return
		}
		switch {
		case strings.HasPrefix(name, "evt.arg."):
			// A named argument needs the table only if it renders an fd;
			// request, sig, cmd, uid, mode and paths come with the event,
			// and so does the file behind an fd the kernel names.
			arg := strings.TrimPrefix(name, "evt.arg.")
			named = named || arg == "fd"
			fd = fd || (fdNamedArgs[arg] && arg != "fd")
		case kernelNamedFields[name]:
			named = true
		case strings.HasPrefix(name, "fd.") || strings.HasPrefix(name, "evt.arg"):
			fd = true
		}
	}
	if e, err := lang.Parse(lang.NewSource(r.Name, r.Condition, 1, 1)); err == nil {
		lang.Inspect(e, func(n lang.Node) bool {
			if f, ok := n.(*lang.FieldRef); ok {
				visit(f.Name)
			}
			return true
		})
	}
	for _, p := range r.Output.Placeholders() {
		// A placeholder is named as written, transformers included.
		for _, prefix := range [...]string{"proc.stdin.", "proc.stdout.", "proc.stderr.", "fd.", "evt.arg"} {
			if i := strings.Index(p.Name, prefix); i >= 0 {
				visit(p.Name[i:])
			}
		}
	}
	if stdio || (stdioAtExec && !onlyExecs(r)) {
		return true
	}
	if !fd && !named {
		return false
	}
	if r.Types.Neg {
		return true
	}
	for _, name := range r.Types.Names() {
		if syscalls.HandlerFor(name) != syscalls.Generic {
			continue
		}
		if fd || !kernelNamesFD(name) {
			return true
		}
	}
	return false
}

// onlyExecs reports whether r matches exec events alone, whose record
// carries the standard fds.
func onlyExecs(r *Rule) bool {
	names := r.Types.Names()
	if r.Types.Neg || len(names) == 0 {
		return false
	}
	for _, name := range names {
		if name != "execve" && name != "execveat" {
			return false
		}
	}
	return true
}

// kernelNamesFD reports whether a generic syscall's fd fields need no fd
// table: the kernel sends the path of the file behind its fd argument, or
// it has no fd argument and returns no fd (chmod), so that fd.* have no
// value whatever the table holds.
func kernelNamesFD(name string) bool {
	spec, _ := syscalls.SpecFor(name)
	for _, a := range spec.Args {
		if a.Name == "fd" || a.Name == "oldfd" {
			return a.Slot == syscalls.SlotFD
		}
	}
	return !slices.Contains(proc.FDSyscalls(), name)
}
