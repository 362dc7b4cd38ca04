package detect

import (
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/rules/compile"
	"github.com/vigilsec/vigil/internal/syscalls"
)

// maxSyscall bounds the syscall numbers the type index covers; x86-64
// numbers stay well below it.
const maxSyscall = 1024

// typeIndex maps events to the program's event type ids without a string
// lookup per event: the id of every syscall number is resolved once.
type typeIndex struct {
	prog      *Program
	bySyscall [maxSyscall]compile.EventType
	named     [maxSyscall]bool // the syscall has a name; others fall back to TypeName
	fork      compile.EventType
	exit      compile.EventType
	execve    compile.EventType
}

func newTypeIndex(p *Program) *typeIndex {
	ti := &typeIndex{
		prog:   p,
		fork:   p.EventType("procfork"),
		exit:   p.EventType("procexit"),
		execve: p.EventType("execve"),
	}
	for nr := range int32(maxSyscall) {
		if name := syscalls.Name(nr); name != "" {
			ti.bySyscall[nr], ti.named[nr] = p.EventType(name), true
		}
	}
	return ti
}

// of returns the id of the event's evt.type, as event.Event.TypeName names it.
func (ti *typeIndex) of(ev *event.Event) compile.EventType {
	switch ev.Kind {
	case event.KindFork:
		return ti.fork
	case event.KindExit:
		return ti.exit
	}
	if nr := ev.Syscall; nr >= 0 && nr < maxSyscall && ti.named[nr] {
		return ti.bySyscall[nr]
	}
	if ev.Kind == event.KindExec && ev.Syscall < 0 {
		return ti.execve
	}
	return ti.prog.EventType(ev.TypeName())
}
