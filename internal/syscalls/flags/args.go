package flags

// bySyscall names the table of an argument that means different things in
// different syscalls ("flags" above all), keyed "syscall.arg".
var bySyscall = map[string]*Table{
	"pipe2.flags": Pipe, "dup3.flags": Dup3, "eventfd2.flags": Eventfd, "signalfd4.flags": Signalf,
	"timerfd_create.flags": Timerfd, "timerfd_create.clockid": Clock, "inotify_init1.flags": Inotify,
	"epoll_create1.flags": Epoll, "pidfd_open.flags": Pidfd, "userfaultfd.flags": Uffd,
	"memfd_create.flags": Memfd, "close_range.flags": CloseRange,
	"socket.type": SockType, "socketpair.type": SockType,
	"sendto.flags": Msg, "recvfrom.flags": Msg, "sendmsg.flags": Msg, "recvmsg.flags": Msg,
	"unlinkat.flags": At, "linkat.flags": At, "fchownat.flags": At, "renameat2.flags": Rename,
	"clone.flags": Clone, "unshare.flags": Unshare, "setns.nstype": Unshare,
	"mount.flags": Mount, "umount2.flags": Umount,
	"finit_module.flags": Module, "delete_module.flags": DeleteModule, "perf_event_open.flags": Perf,
	"fcntl.cmd": Fcntl, "bpf.cmd": BPF, "reboot.cmd": Reboot, "open_by_handle_at.flags": Open,
}

// byName names the table of an argument that means the same thing
// wherever it appears.
var byName = map[string]*Table{
	"domain":  Family,
	"request": Ptrace,
	"option":  Prctl,
	"sig":     Signal,
	"how":     Shutdown,
}

// ForArg returns the table that renders the named argument of the named
// syscall, or nil when the argument is a plain number.
func ForArg(syscall, arg string) *Table {
	if t, ok := bySyscall[syscall+"."+arg]; ok {
		return t
	}
	return byName[arg]
}
