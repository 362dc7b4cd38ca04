package proc

import (
	"sort"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/syscalls"
)

// fdOp says how a generic syscall changes the fd table.
type fdOp uint8

const (
	opNone fdOp = iota
	opSocket
	opSocketpair
	opPipe
	opPipe2
	opDup
	opDup2
	opDup3
	opFcntl
	opClose
	opCloseRange
	opMemfd
	opBPF
	opAnon // creates an fd on an anonymous inode; see anonMakers
)

// anonMaker describes a syscall that returns a new fd on an anonymous
// inode: what /proc would call it, and where its close-on-exec flag is.
type anonMaker struct {
	typ  FDType
	name string
	// flagArg is the argument holding the flags, -1 if none; cloexec is
	// the flag's bit there. always means the fd is close-on-exec whatever
	// the flags say.
	flagArg int8
	cloexec uint64
	always  bool
}

const oCloexec = 0o2000000 // O_CLOEXEC, which EFD_, SFD_, TFD_, IN_ and EPOLL_CLOEXEC equal

var anonMakers = map[string]anonMaker{
	"eventfd":         {FDEvent, "anon_inode:[eventfd]", -1, 0, false},
	"eventfd2":        {FDEvent, "anon_inode:[eventfd]", 1, oCloexec, false},
	"signalfd":        {FDSignalfd, "anon_inode:[signalfd]", -1, 0, false},
	"signalfd4":       {FDSignalfd, "anon_inode:[signalfd]", 3, oCloexec, false},
	"timerfd_create":  {FDTimerfd, "anon_inode:[timerfd]", 1, oCloexec, false},
	"inotify_init":    {FDInotify, "anon_inode:inotify", -1, 0, false},
	"inotify_init1":   {FDInotify, "anon_inode:inotify", 0, oCloexec, false},
	"epoll_create":    {FDEventpoll, "anon_inode:[eventpoll]", -1, 0, false},
	"epoll_create1":   {FDEventpoll, "anon_inode:[eventpoll]", 0, oCloexec, false},
	"userfaultfd":     {FDUserfaultfd, "anon_inode:[userfaultfd]", 0, oCloexec, false},
	"pidfd_open":      {FDPidfd, "anon_inode:[pidfd]", -1, 0, true},
	"io_uring_setup":  {FDIOUring, "anon_inode:[io_uring]", -1, 0, true},
	"perf_event_open": {FDUnknown, "anon_inode:[perf_event]", 4, 1 << 3, false}, // PERF_FLAG_FD_CLOEXEC
}

var namedOps = map[string]fdOp{
	"socket": opSocket, "socketpair": opSocketpair, "pipe": opPipe, "pipe2": opPipe2,
	"dup": opDup, "dup2": opDup2, "dup3": opDup3, "fcntl": opFcntl, "close": opClose,
	"close_range": opCloseRange, "memfd_create": opMemfd, "bpf": opBPF,
}

// maxSyscallNr bounds the dispatch table; the kernel's filter map has as
// many entries.
const maxSyscallNr = 512

// fdOps and fdAnon are indexed by syscall number, so that dispatching an
// event costs an array load rather than a name lookup.
var fdOps, fdAnon = func() (ops [maxSyscallNr]fdOp, anon [maxSyscallNr]anonMaker) {
	for name, op := range namedOps {
		if nr, ok := syscalls.Number(name); ok && nr >= 0 && nr < maxSyscallNr {
			ops[nr] = op
		}
	}
	for name, m := range anonMakers {
		if nr, ok := syscalls.Number(name); ok && nr >= 0 && nr < maxSyscallNr {
			ops[nr], anon[nr] = opAnon, m
		}
	}
	return ops, anon
}()

// FDSyscalls returns, sorted, the syscalls whose capture keeps fd tables
// exact: the calls that create, duplicate, close or describe fds, open,
// socket and exec calls included. Without them the tables still hold what
// was seeded and what the captured calls show, but go stale.
func FDSyscalls() []string {
	names := []string{"open", "openat", "openat2", "creat", "connect", "accept", "accept4", "bind", "listen", "execve", "execveat"}
	for name := range namedOps {
		names = append(names, name)
	}
	for name := range anonMakers {
		names = append(names, name)
	}
	out := names[:0]
	for _, name := range names {
		if syscalls.HandlerFor(name) != syscalls.None {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// ResultIsFD reports whether ev's result, when not negative, is an fd the
// call created: an open, an accept, a socket, a dup, an fd on an
// anonymous inode. pipe and socketpair return 0 and their fds in memory.
func ResultIsFD(ev *event.Event) bool {
	switch ev.Kind {
	case event.KindOpen:
		return true
	case event.KindSocket:
		return ev.Socket.Op == event.OpAccept
	case event.KindSyscall:
	default:
		return false
	}
	if ev.Syscall < 0 || ev.Syscall >= maxSyscallNr {
		return false
	}
	switch fdOps[ev.Syscall] {
	case opSocket, opDup, opDup2, opDup3, opMemfd, opAnon:
		return true
	case opFcntl:
		cmd := int32(ev.Sys.Args[1])
		return cmd == fDupfd || cmd == fDupfdCloexec
	case opBPF:
		return bpfFDName(ev.Sys.Args[0]) != ""
	}
	return false
}
