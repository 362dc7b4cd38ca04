package flags

import "golang.org/x/sys/unix"

// The tables. Values are x86-64 Linux's; where golang.org/x/sys/unix
// defines a constant it is used, so that a typo cannot slip in.

// Open is open's flags: the access mode, then the flags in the order Falco
// prints them (x/sys hides O_LARGEFILE on amd64, which the kernel does
// report, so it is spelled out).
var Open = &Table{
	EnumMask: unix.O_ACCMODE,
	Enum:     []Name{{unix.O_RDONLY, "O_RDONLY"}, {unix.O_WRONLY, "O_WRONLY"}, {unix.O_RDWR, "O_RDWR"}, {unix.O_ACCMODE, "O_ACCMODE"}},
	Bits: []Name{
		{unix.O_TMPFILE, "O_TMPFILE"}, {unix.O_SYNC, "O_SYNC"}, {unix.O_CREAT, "O_CREAT"},
		{unix.O_EXCL, "O_EXCL"}, {unix.O_NOCTTY, "O_NOCTTY"}, {unix.O_TRUNC, "O_TRUNC"},
		{unix.O_APPEND, "O_APPEND"}, {unix.O_NONBLOCK, "O_NONBLOCK"}, {unix.O_DSYNC, "O_DSYNC"},
		{unix.O_ASYNC, "O_ASYNC"}, {unix.O_DIRECT, "O_DIRECT"}, {0x8000, "O_LARGEFILE"},
		{unix.O_DIRECTORY, "O_DIRECTORY"}, {unix.O_NOFOLLOW, "O_NOFOLLOW"}, {unix.O_NOATIME, "O_NOATIME"},
		{unix.O_CLOEXEC, "O_CLOEXEC"}, {unix.O_PATH, "O_PATH"},
	},
}

// Resolve is openat2's RESOLVE_* flags.
var Resolve = &Table{Wide: true, Bits: []Name{
	{unix.RESOLVE_NO_XDEV, "RESOLVE_NO_XDEV"}, {unix.RESOLVE_NO_MAGICLINKS, "RESOLVE_NO_MAGICLINKS"},
	{unix.RESOLVE_NO_SYMLINKS, "RESOLVE_NO_SYMLINKS"}, {unix.RESOLVE_BENEATH, "RESOLVE_BENEATH"},
	{unix.RESOLVE_IN_ROOT, "RESOLVE_IN_ROOT"}, {0x20, "RESOLVE_CACHED"},
}}

// Descriptor flags of pipe2, dup3 and the calls that make anonymous fds.
var (
	Pipe    = &Table{Bits: []Name{{unix.O_CLOEXEC, "O_CLOEXEC"}, {unix.O_DIRECT, "O_DIRECT"}, {unix.O_NONBLOCK, "O_NONBLOCK"}, {unix.O_EXCL, "O_NOTIFICATION_PIPE"}}}
	Dup3    = &Table{Bits: []Name{{unix.O_CLOEXEC, "O_CLOEXEC"}}}
	Eventfd = &Table{Bits: []Name{{unix.EFD_SEMAPHORE, "EFD_SEMAPHORE"}, {unix.EFD_NONBLOCK, "EFD_NONBLOCK"}, {unix.EFD_CLOEXEC, "EFD_CLOEXEC"}}}
	Signalf = &Table{Bits: []Name{{unix.SFD_NONBLOCK, "SFD_NONBLOCK"}, {unix.SFD_CLOEXEC, "SFD_CLOEXEC"}}}
	Timerfd = &Table{Bits: []Name{{unix.TFD_NONBLOCK, "TFD_NONBLOCK"}, {unix.TFD_CLOEXEC, "TFD_CLOEXEC"}}}
	Inotify = &Table{Bits: []Name{{unix.IN_NONBLOCK, "IN_NONBLOCK"}, {unix.IN_CLOEXEC, "IN_CLOEXEC"}}}
	Epoll   = &Table{Bits: []Name{{unix.EPOLL_CLOEXEC, "EPOLL_CLOEXEC"}}}
	Pidfd   = &Table{Bits: []Name{{unix.O_NONBLOCK, "PIDFD_NONBLOCK"}, {unix.O_EXCL, "PIDFD_THREAD"}}}
	Uffd    = &Table{Bits: []Name{{unix.O_CLOEXEC, "O_CLOEXEC"}, {unix.O_NONBLOCK, "O_NONBLOCK"}, {1, "UFFD_USER_MODE_ONLY"}}}
	Memfd   = &Table{Bits: []Name{
		{unix.MFD_CLOEXEC, "MFD_CLOEXEC"}, {unix.MFD_ALLOW_SEALING, "MFD_ALLOW_SEALING"},
		{unix.MFD_HUGETLB, "MFD_HUGETLB"}, {unix.MFD_NOEXEC_SEAL, "MFD_NOEXEC_SEAL"}, {unix.MFD_EXEC, "MFD_EXEC"},
	}}
	CloseRange = &Table{Bits: []Name{{unix.CLOSE_RANGE_UNSHARE, "CLOSE_RANGE_UNSHARE"}, {unix.CLOSE_RANGE_CLOEXEC, "CLOSE_RANGE_CLOEXEC"}}}
)

// Clock is the clockid of timerfd_create.
var Clock = &Table{EnumMask: ^uint64(0), Enum: []Name{
	{unix.CLOCK_REALTIME, "CLOCK_REALTIME"}, {unix.CLOCK_MONOTONIC, "CLOCK_MONOTONIC"},
	{unix.CLOCK_PROCESS_CPUTIME_ID, "CLOCK_PROCESS_CPUTIME_ID"}, {unix.CLOCK_THREAD_CPUTIME_ID, "CLOCK_THREAD_CPUTIME_ID"},
	{unix.CLOCK_MONOTONIC_RAW, "CLOCK_MONOTONIC_RAW"}, {unix.CLOCK_REALTIME_COARSE, "CLOCK_REALTIME_COARSE"},
	{unix.CLOCK_MONOTONIC_COARSE, "CLOCK_MONOTONIC_COARSE"}, {unix.CLOCK_BOOTTIME, "CLOCK_BOOTTIME"},
	{unix.CLOCK_REALTIME_ALARM, "CLOCK_REALTIME_ALARM"}, {unix.CLOCK_BOOTTIME_ALARM, "CLOCK_BOOTTIME_ALARM"},
	{unix.CLOCK_TAI, "CLOCK_TAI"},
}}

// Family is the AF_* address family of socket and socketpair.
var Family = &Table{EnumMask: ^uint64(0), Enum: []Name{
	{unix.AF_UNSPEC, "AF_UNSPEC"}, {unix.AF_UNIX, "AF_UNIX"}, {unix.AF_INET, "AF_INET"}, {unix.AF_AX25, "AF_AX25"},
	{unix.AF_IPX, "AF_IPX"}, {unix.AF_APPLETALK, "AF_APPLETALK"}, {unix.AF_NETROM, "AF_NETROM"},
	{unix.AF_BRIDGE, "AF_BRIDGE"}, {unix.AF_ATMPVC, "AF_ATMPVC"}, {unix.AF_X25, "AF_X25"},
	{unix.AF_INET6, "AF_INET6"}, {unix.AF_ROSE, "AF_ROSE"}, {unix.AF_DECnet, "AF_DECnet"},
	{unix.AF_NETBEUI, "AF_NETBEUI"}, {unix.AF_SECURITY, "AF_SECURITY"}, {unix.AF_KEY, "AF_KEY"},
	{unix.AF_NETLINK, "AF_NETLINK"}, {unix.AF_PACKET, "AF_PACKET"}, {unix.AF_ASH, "AF_ASH"},
	{unix.AF_ECONET, "AF_ECONET"}, {unix.AF_ATMSVC, "AF_ATMSVC"}, {unix.AF_RDS, "AF_RDS"},
	{unix.AF_SNA, "AF_SNA"}, {unix.AF_IRDA, "AF_IRDA"}, {unix.AF_PPPOX, "AF_PPPOX"},
	{unix.AF_WANPIPE, "AF_WANPIPE"}, {unix.AF_LLC, "AF_LLC"}, {unix.AF_IB, "AF_IB"},
	{unix.AF_MPLS, "AF_MPLS"}, {unix.AF_CAN, "AF_CAN"}, {unix.AF_TIPC, "AF_TIPC"},
	{unix.AF_BLUETOOTH, "AF_BLUETOOTH"}, {unix.AF_IUCV, "AF_IUCV"}, {unix.AF_RXRPC, "AF_RXRPC"},
	{unix.AF_ISDN, "AF_ISDN"}, {unix.AF_PHONET, "AF_PHONET"}, {unix.AF_IEEE802154, "AF_IEEE802154"},
	{unix.AF_CAIF, "AF_CAIF"}, {unix.AF_ALG, "AF_ALG"}, {unix.AF_NFC, "AF_NFC"},
	{unix.AF_VSOCK, "AF_VSOCK"}, {unix.AF_KCM, "AF_KCM"}, {unix.AF_QIPCRTR, "AF_QIPCRTR"},
	{unix.AF_SMC, "AF_SMC"}, {unix.AF_XDP, "AF_XDP"}, {unix.AF_MCTP, "AF_MCTP"},
}}

// SockType is a socket's type with its creation flags.
var SockType = &Table{
	EnumMask: 0xf,
	Enum: []Name{
		{unix.SOCK_STREAM, "SOCK_STREAM"}, {unix.SOCK_DGRAM, "SOCK_DGRAM"}, {unix.SOCK_RAW, "SOCK_RAW"},
		{unix.SOCK_RDM, "SOCK_RDM"}, {unix.SOCK_SEQPACKET, "SOCK_SEQPACKET"}, {unix.SOCK_DCCP, "SOCK_DCCP"},
		{unix.SOCK_PACKET, "SOCK_PACKET"},
	},
	Bits: []Name{{unix.SOCK_NONBLOCK, "SOCK_NONBLOCK"}, {unix.SOCK_CLOEXEC, "SOCK_CLOEXEC"}},
}

// Shutdown is shutdown's how.
var Shutdown = &Table{EnumMask: ^uint64(0), Enum: []Name{{unix.SHUT_RD, "SHUT_RD"}, {unix.SHUT_WR, "SHUT_WR"}, {unix.SHUT_RDWR, "SHUT_RDWR"}}}

// Msg is the MSG_* flags of send and receive calls.
var Msg = &Table{Bits: []Name{
	{unix.MSG_OOB, "MSG_OOB"}, {unix.MSG_PEEK, "MSG_PEEK"}, {unix.MSG_DONTROUTE, "MSG_DONTROUTE"},
	{unix.MSG_CTRUNC, "MSG_CTRUNC"}, {unix.MSG_PROXY, "MSG_PROXY"}, {unix.MSG_TRUNC, "MSG_TRUNC"},
	{unix.MSG_DONTWAIT, "MSG_DONTWAIT"}, {unix.MSG_EOR, "MSG_EOR"}, {unix.MSG_WAITALL, "MSG_WAITALL"},
	{unix.MSG_FIN, "MSG_FIN"}, {unix.MSG_SYN, "MSG_SYN"}, {unix.MSG_CONFIRM, "MSG_CONFIRM"},
	{unix.MSG_RST, "MSG_RST"}, {unix.MSG_ERRQUEUE, "MSG_ERRQUEUE"}, {unix.MSG_NOSIGNAL, "MSG_NOSIGNAL"},
	{unix.MSG_MORE, "MSG_MORE"}, {unix.MSG_WAITFORONE, "MSG_WAITFORONE"}, {unix.MSG_BATCH, "MSG_BATCH"},
	{unix.MSG_ZEROCOPY, "MSG_ZEROCOPY"}, {unix.MSG_FASTOPEN, "MSG_FASTOPEN"}, {unix.MSG_CMSG_CLOEXEC, "MSG_CMSG_CLOEXEC"},
}}

// At is the AT_* flags of the *at calls.
var At = &Table{Bits: []Name{
	{unix.AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW"}, {unix.AT_REMOVEDIR, "AT_REMOVEDIR"},
	{unix.AT_SYMLINK_FOLLOW, "AT_SYMLINK_FOLLOW"}, {unix.AT_NO_AUTOMOUNT, "AT_NO_AUTOMOUNT"},
	{unix.AT_EMPTY_PATH, "AT_EMPTY_PATH"},
}}

// Rename is renameat2's flags.
var Rename = &Table{Bits: []Name{{unix.RENAME_NOREPLACE, "RENAME_NOREPLACE"}, {unix.RENAME_EXCHANGE, "RENAME_EXCHANGE"}, {unix.RENAME_WHITEOUT, "RENAME_WHITEOUT"}}}

// namespaces are the CLONE_NEW* flags.
var namespaces = []Name{
	{unix.CLONE_NEWNS, "CLONE_NEWNS"}, {unix.CLONE_NEWCGROUP, "CLONE_NEWCGROUP"}, {unix.CLONE_NEWUTS, "CLONE_NEWUTS"},
	{unix.CLONE_NEWIPC, "CLONE_NEWIPC"}, {unix.CLONE_NEWUSER, "CLONE_NEWUSER"}, {unix.CLONE_NEWPID, "CLONE_NEWPID"},
	{unix.CLONE_NEWNET, "CLONE_NEWNET"},
}

// Clone is clone's flags. The low byte is the signal sent to the parent on
// exit, not a flag, and is left out (clone3 passes it separately).
var Clone = &Table{Wide: true, Ignore: 0xff, Bits: append([]Name{
	{unix.CLONE_VM, "CLONE_VM"}, {unix.CLONE_FS, "CLONE_FS"}, {unix.CLONE_FILES, "CLONE_FILES"},
	{unix.CLONE_SIGHAND, "CLONE_SIGHAND"}, {unix.CLONE_PIDFD, "CLONE_PIDFD"}, {unix.CLONE_PTRACE, "CLONE_PTRACE"},
	{unix.CLONE_VFORK, "CLONE_VFORK"}, {unix.CLONE_PARENT, "CLONE_PARENT"}, {unix.CLONE_THREAD, "CLONE_THREAD"},
	{unix.CLONE_SYSVSEM, "CLONE_SYSVSEM"}, {unix.CLONE_SETTLS, "CLONE_SETTLS"},
	{unix.CLONE_PARENT_SETTID, "CLONE_PARENT_SETTID"}, {unix.CLONE_CHILD_CLEARTID, "CLONE_CHILD_CLEARTID"},
	{unix.CLONE_DETACHED, "CLONE_DETACHED"}, {unix.CLONE_UNTRACED, "CLONE_UNTRACED"},
	{unix.CLONE_CHILD_SETTID, "CLONE_CHILD_SETTID"}, {unix.CLONE_IO, "CLONE_IO"},
}, namespaces...)}

// Unshare is unshare's flags and setns's nstype: the namespaces (with
// CLONE_NEWTIME, which clone cannot take) and what else unshare can split.
var Unshare = &Table{Bits: append([]Name{
	{unix.CLONE_FILES, "CLONE_FILES"}, {unix.CLONE_FS, "CLONE_FS"}, {unix.CLONE_SYSVSEM, "CLONE_SYSVSEM"},
	{unix.CLONE_NEWTIME, "CLONE_NEWTIME"}, {unix.CLONE_THREAD, "CLONE_THREAD"}, {unix.CLONE_SIGHAND, "CLONE_SIGHAND"},
	{unix.CLONE_VM, "CLONE_VM"},
}, namespaces...)}

// Mount is mount's flags. A value whose top half is the old magic number
// names it MS_MGC_VAL.
var Mount = &Table{
	Wide:     true,
	EnumMask: unix.MS_MGC_MSK,
	Enum:     []Name{{unix.MS_MGC_VAL, "MS_MGC_VAL"}},
	Bits: []Name{
		{unix.MS_RDONLY, "MS_RDONLY"}, {unix.MS_NOSUID, "MS_NOSUID"}, {unix.MS_NODEV, "MS_NODEV"},
		{unix.MS_NOEXEC, "MS_NOEXEC"}, {unix.MS_SYNCHRONOUS, "MS_SYNCHRONOUS"}, {unix.MS_REMOUNT, "MS_REMOUNT"},
		{unix.MS_MANDLOCK, "MS_MANDLOCK"}, {unix.MS_DIRSYNC, "MS_DIRSYNC"}, {unix.MS_NOSYMFOLLOW, "MS_NOSYMFOLLOW"},
		{unix.MS_NOATIME, "MS_NOATIME"}, {unix.MS_NODIRATIME, "MS_NODIRATIME"}, {unix.MS_BIND, "MS_BIND"},
		{unix.MS_MOVE, "MS_MOVE"}, {unix.MS_REC, "MS_REC"}, {unix.MS_SILENT, "MS_SILENT"},
		{unix.MS_POSIXACL, "MS_POSIXACL"}, {unix.MS_UNBINDABLE, "MS_UNBINDABLE"}, {unix.MS_PRIVATE, "MS_PRIVATE"},
		{unix.MS_SLAVE, "MS_SLAVE"}, {unix.MS_SHARED, "MS_SHARED"}, {unix.MS_RELATIME, "MS_RELATIME"},
		{unix.MS_KERNMOUNT, "MS_KERNMOUNT"}, {unix.MS_I_VERSION, "MS_I_VERSION"}, {unix.MS_STRICTATIME, "MS_STRICTATIME"},
		{unix.MS_LAZYTIME, "MS_LAZYTIME"}, {unix.MS_NOUSER, "MS_NOUSER"},
	},
}

// Umount is umount2's flags.
var Umount = &Table{Bits: []Name{{unix.MNT_FORCE, "MNT_FORCE"}, {unix.MNT_DETACH, "MNT_DETACH"}, {unix.MNT_EXPIRE, "MNT_EXPIRE"}, {unix.UMOUNT_NOFOLLOW, "UMOUNT_NOFOLLOW"}}}

// Module is finit_module's flags; DeleteModule is delete_module's.
var (
	Module       = &Table{Bits: []Name{{unix.MODULE_INIT_IGNORE_MODVERSIONS, "MODULE_INIT_IGNORE_MODVERSIONS"}, {unix.MODULE_INIT_IGNORE_VERMAGIC, "MODULE_INIT_IGNORE_VERMAGIC"}, {4, "MODULE_INIT_COMPRESSED_FILE"}}}
	DeleteModule = &Table{Bits: []Name{{unix.O_NONBLOCK, "O_NONBLOCK"}, {unix.O_TRUNC, "O_TRUNC"}}}
)

// Perf is perf_event_open's flags.
var Perf = &Table{Wide: true, Bits: []Name{
	{unix.PERF_FLAG_FD_NO_GROUP, "PERF_FLAG_FD_NO_GROUP"}, {unix.PERF_FLAG_FD_OUTPUT, "PERF_FLAG_FD_OUTPUT"},
	{unix.PERF_FLAG_PID_CGROUP, "PERF_FLAG_PID_CGROUP"}, {unix.PERF_FLAG_FD_CLOEXEC, "PERF_FLAG_FD_CLOEXEC"},
}}
