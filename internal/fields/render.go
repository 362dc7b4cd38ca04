package fields

import (
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/syscalls/flags"
)

// Open flags as the x86-64 kernel defines them, for the evt.is_open_*
// fields.
const (
	oAccMode   = 0x3
	oWronly    = 0x1
	oRdwr      = 0x2
	oCreat     = 0x40
	oDirectory = 0x10000
	oTmpfile   = 0x400000 | oDirectory
)

// appendOpenFlags renders open flags symbolically: O_WRONLY|O_CREAT|O_TRUNC.
// Unknown bits are appended in hex so that nothing is silently lost.
func appendOpenFlags(dst []byte, fl uint32) []byte {
	return flags.Open.Append(dst, uint64(fl))
}

// appendMode renders permission bits in octal with a leading 0, as
// printf's %#o does: 0644, and 0 for none.
func appendMode(dst []byte, mode uint32) []byte {
	if mode == 0 {
		return append(dst, '0')
	}
	return strconv.AppendUint(append(dst, '0'), uint64(mode), 8)
}

// errnoName returns the symbolic name of a negative syscall result, such
// as ENOENT for -2, or "" when it has none.
func errnoName(ret int64) string {
	if ret >= 0 || ret < -4095 {
		return ""
	}
	return unix.ErrnoName(syscall.Errno(-ret))
}

// appendResult renders a syscall result as Falco prints fds and results
// in event arguments: 3, or -2(ENOENT) for an error.
func appendResult(dst []byte, ret int64) []byte {
	dst = strconv.AppendInt(dst, ret, 10)
	if name := errnoName(ret); name != "" {
		dst = append(append(append(dst, '('), name...), ')')
	}
	return dst
}

// capNames are the capabilities by bit number.
var capNames = [...]string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// appendCaps renders a capability set as Falco does: the names of the
// capabilities it holds, separated by spaces. Bits newer than this list
// are left out, as Falco leaves them out.
func appendCaps(dst []byte, caps uint64) []byte {
	first := true
	for i, name := range capNames {
		if caps&(1<<i) == 0 {
			continue
		}
		if !first {
			dst = append(dst, ' ')
		}
		dst, first = append(dst, name...), false
	}
	return dst
}

// appendArgs appends argv[1:] of a NUL-separated argv, separated by
// spaces: what Falco calls proc.args.
func appendArgs(dst []byte, argv string) []byte {
	_, rest, ok := cutNUL(argv)
	if !ok {
		return dst
	}
	return appendSpaced(dst, rest)
}

// appendSpaced appends NUL-separated elements separated by spaces.
func appendSpaced(dst []byte, elems string) []byte {
	for i := 0; i < len(elems); i++ {
		if elems[i] == 0 {
			dst = append(dst, ' ')
		} else {
			dst = append(dst, elems[i])
		}
	}
	return dst
}

// appendCmdline appends Falco's command line: head (the process name, or
// argv[0] for exeline) followed by the arguments.
func appendCmdline(dst []byte, head, argv string) []byte {
	dst = append(dst, head...)
	if _, rest, ok := cutNUL(argv); ok && rest != "" {
		dst = appendArgs(append(dst, ' '), argv)
	}
	return dst
}

// argv0 returns the first element of a NUL-separated argv.
func argv0(argv string) string {
	a, _, _ := cutNUL(argv)
	return a
}

// cutNUL splits argv at its first NUL.
func cutNUL(argv string) (first, rest string, found bool) {
	for i := 0; i < len(argv); i++ {
		if argv[i] == 0 {
			return argv[:i], argv[i+1:], true
		}
	}
	return argv, "", false
}
