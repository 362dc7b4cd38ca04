package baseline

import (
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/syscalls"
)

// capNames are the Linux capabilities by number (linux/capability.h).
var capNames = [...]string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// Capability numbers the inference uses.
const (
	capChown          = 0
	capSetGID         = 6
	capSetUID         = 7
	capNetBindService = 10
	capNetRaw         = 13
	capSysModule      = 16
	capSysRawIO       = 17
	capSysChroot      = 18
	capSysPacct       = 20
	capSysAdmin       = 21
	capSysBoot        = 22
	capSysTime        = 25
	capMknod          = 27
	capBPF            = 39
)

// CapName returns a capability's name, "" for an unknown number.
func CapName(c uint32) string {
	if int(c) < len(capNames) {
		return capNames[c]
	}
	return ""
}

// ParseCap returns a capability's number from its name.
func ParseCap(name string) (uint32, bool) {
	for i, n := range capNames {
		if n == name {
			return uint32(i), true
		}
	}
	return 0, false
}

// capBySyscall maps syscalls whose success proves a capability was used,
// whoever the caller is. Syscalls that need a capability only in some
// cases (kill, ptrace, setpriority, setrlimit, unshare, setns) are not
// here: their success says nothing.
var capBySyscall = func() map[int32]uint32 {
	m := map[int32]uint32{}
	for name, c := range map[string]uint32{
		"init_module": capSysModule, "finit_module": capSysModule, "delete_module": capSysModule,
		"mount": capSysAdmin, "umount2": capSysAdmin, "pivot_root": capSysAdmin, "swapon": capSysAdmin,
		"swapoff": capSysAdmin, "sethostname": capSysAdmin, "setdomainname": capSysAdmin,
		"chroot": capSysChroot, "reboot": capSysBoot, "kexec_load": capSysBoot, "kexec_file_load": capSysBoot,
		"settimeofday": capSysTime, "clock_settime": capSysTime, "iopl": capSysRawIO, "ioperm": capSysRawIO,
		"acct": capSysPacct, "bpf": capBPF,
	} {
		if nr, ok := syscalls.Number(name); ok {
			m[nr] = c
		}
	}
	return m
}()

// setid syscalls: when a process with effective uid 0 changes ids, it
// uses CAP_SETUID or CAP_SETGID (a non-root process may only shuffle ids
// it already has, which needs nothing).
var setidSyscalls = func() map[int32]uint32 {
	m := map[int32]uint32{}
	for name, c := range map[string]uint32{
		"setuid": capSetUID, "setreuid": capSetUID, "setresuid": capSetUID, "setfsuid": capSetUID,
		"setgid": capSetGID, "setregid": capSetGID, "setresgid": capSetGID, "setfsgid": capSetGID,
		"setgroups": capSetGID,
	} {
		if nr, ok := syscalls.Number(name); ok {
			m[nr] = c
		}
	}
	return m
}()

var (
	nrChown, _    = syscalls.Number("chown")
	nrFchown, _   = syscalls.Number("fchown")
	nrLchown, _   = syscalls.Number("lchown")
	nrFchownat, _ = syscalls.Number("fchownat")
	nrMknod, _    = syscalls.Number("mknod")
	nrMknodat, _  = syscalls.Number("mknodat")
)

const (
	sockRaw  = 3  // SOCK_RAW
	afPacket = 17 // AF_PACKET
	sIFMT    = 0o170000
	sIFCHR   = 0o020000
	sIFBLK   = 0o060000
)

// InferCapability returns the capability a successful event proves its
// process used, if any. euid is the process's effective uid. What it can
// see (docs/baselines.md lists it): the syscalls in capBySyscall;
// set*id by root; chown to another owner; mknod of a device; bind to a
// port below 1024 (CAP_NET_BIND_SERVICE, unless the host lowered
// net.ipv4.ip_unprivileged_port_start); raw and packet sockets
// (CAP_NET_RAW). The sensor has no view of the kernel's capability
// checks themselves, so anything else (CAP_DAC_OVERRIDE on a read, for
// one) is not inferred.
func InferCapability(ev *event.Event, euid uint32) (uint32, bool) {
	if ev.Ret < 0 {
		return 0, false
	}
	switch ev.Kind {
	case event.KindSocket:
		s := &ev.Socket
		if s.Type == sockRaw || s.Family == afPacket {
			return capNetRaw, true
		}
		if s.Op == event.OpBind && s.Local.Port() > 0 && s.Local.Port() < 1024 {
			return capNetBindService, true
		}
	case event.KindSyscall:
		nr := ev.Syscall
		if c, ok := capBySyscall[nr]; ok {
			return c, true
		}
		if c, ok := setidSyscalls[nr]; ok && euid == 0 {
			return c, true
		}
		a := &ev.Sys.Args
		switch nr {
		case nrChown, nrFchown, nrLchown:
			if uint32(a[1]) != 0xffffffff && uint32(a[1]) != euid {
				return capChown, true
			}
		case nrFchownat:
			if uint32(a[2]) != 0xffffffff && uint32(a[2]) != euid {
				return capChown, true
			}
		case nrMknod:
			if m := a[1] & sIFMT; m == sIFCHR || m == sIFBLK {
				return capMknod, true
			}
		case nrMknodat:
			if m := a[2] & sIFMT; m == sIFCHR || m == sIFBLK {
				return capMknod, true
			}
		}
	}
	return 0, false
}
