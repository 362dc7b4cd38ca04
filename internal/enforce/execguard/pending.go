package execguard

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Layout of struct pending_exec in bpf/execguard.h (checked against the C
// header by layout_test.go).
const (
	filenameMax = 4096
	argsMax     = 4096
	argcMax     = 64

	pendKtimeOff       = 0
	pendDirfdOff       = 8
	pendAtFlagsOff     = 12
	pendSyscallOff     = 16
	pendFilenameLenOff = 20
	pendArgsLenOff     = 22
	pendArgcOff        = 24
	pendFlagsOff       = 26
	pendingHeaderSize  = 32 // where the filename starts
	pendArgsOff        = pendingHeaderSize + filenameMax
	pendingSize        = pendArgsOff + argsMax

	pendingTruncated = 1
)

// Exec is the argv of an exec in flight, as its caller passed it to
// execve(2) or execveat(2).
type Exec struct {
	// Filename is the path argument, unresolved: relative to Dirfd (or the
	// working directory), and empty for execveat(fd, "", AT_EMPTY_PATH).
	Filename string
	// Argv is the argument vector, at most 64 arguments and 4 KiB.
	Argv []string
	// Truncated means Argv (or Filename) is incomplete: over a bound, or
	// not readable from the caller's memory at syscall entry.
	Truncated bool
	// Dirfd is execveat's dirfd; AT_FDCWD (-100) for execve.
	Dirfd int32
	// Flags is execveat's flags (AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW); 0
	// for execve.
	Flags uint32
	// Syscall is 59 (execve) or 322 (execveat).
	Syscall uint32
	// KtimeNS is CLOCK_MONOTONIC at syscall entry, to tell this exec from
	// an older one of a recycled thread id.
	KtimeNS uint64
}

// Pending returns the exec thread tid is performing: present from its
// sys_enter until its sys_exit, so a FAN_OPEN_EXEC_PERM handler sees the
// exec it is deciding on. fanotify reports the thread group id unless the
// group was created with FAN_REPORT_TID; for a single-threaded caller they
// are equal.
func (g *Guard) Pending(tid uint32) (Exec, bool) {
	b, err := g.objs.Pending.LookupBytes(&tid)
	if err != nil || b == nil {
		return Exec{}, false
	}
	e, err := decodePending(b)
	if err != nil {
		g.decodeErrors.Add(1)
		return Exec{}, false
	}
	return e, true
}

var errShortPending = errors.New("execguard: pending entry shorter than its header")

// decodePending parses a pending map value; b comes from the kernel, but is
// checked as if it did not.
func decodePending(b []byte) (Exec, error) {
	if len(b) < pendingHeaderSize {
		return Exec{}, errShortPending
	}
	le := binary.LittleEndian
	e := Exec{
		KtimeNS: le.Uint64(b[pendKtimeOff:]),
		Dirfd:   int32(le.Uint32(b[pendDirfdOff:])),
		Flags:   le.Uint32(b[pendAtFlagsOff:]),
		Syscall: le.Uint32(b[pendSyscallOff:]),
	}
	filenameLen := int(le.Uint16(b[pendFilenameLenOff:]))
	argsLen := int(le.Uint16(b[pendArgsLenOff:]))
	argc := int(le.Uint16(b[pendArgcOff:]))
	flags := le.Uint16(b[pendFlagsOff:])
	e.Truncated = flags&pendingTruncated != 0

	if filenameLen >= filenameMax {
		return Exec{}, fmt.Errorf("execguard: pending filename length %d over %d", filenameLen, filenameMax-1)
	}
	if argsLen > argsMax {
		return Exec{}, fmt.Errorf("execguard: pending argv length %d over %d", argsLen, argsMax)
	}
	if argc > argcMax {
		return Exec{}, fmt.Errorf("execguard: pending argc %d over %d", argc, argcMax)
	}
	filename := b[pendingHeaderSize:]
	if len(filename) < filenameLen {
		return Exec{}, fmt.Errorf("execguard: pending filename length %d past the %d bytes present", filenameLen, len(filename))
	}
	e.Filename = string(filename[:filenameLen])
	if len(b) < pendArgsOff+argsLen {
		return Exec{}, fmt.Errorf("execguard: pending argv length %d past the %d bytes present",
			argsLen, max(len(b)-pendArgsOff, 0))
	}
	args := b[pendArgsOff:][:argsLen]
	if argc == 0 {
		if argsLen != 0 {
			return Exec{}, fmt.Errorf("execguard: pending argv has %d bytes but no arguments", argsLen)
		}
		return e, nil
	}
	if len(args) == 0 || args[len(args)-1] != 0 || bytes.Count(args, []byte{0}) != argc {
		return Exec{}, fmt.Errorf("execguard: pending argv does not hold %d NUL-terminated arguments", argc)
	}
	e.Argv = make([]string, 0, argc)
	for len(args) > 0 {
		i := bytes.IndexByte(args, 0)
		e.Argv = append(e.Argv, string(args[:i]))
		args = args[i+1:]
	}
	return e, nil
}
