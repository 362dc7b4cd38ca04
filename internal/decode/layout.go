package decode

// Sizes and offsets of the wire structs in bpf/vigil.h. The C side asserts
// the sizes with _Static_assert, and layout_test.go checks every offset
// below against Go types bpf2go generates from the header, so a layout
// change fails the build of the eBPF object or the tests instead of
// silently corrupting decoded fields.
const (
	headerSize = 64
	forkSize   = 16
	execSize   = 96
	exitSize   = 8
	openSize   = 24
	socketSize = 56
	sysSize    = 56
)

// Offsets in struct event_header.
const (
	hdrTsNs      = 0
	hdrCgroupID  = 8
	hdrRet       = 16
	hdrKind      = 24
	hdrSize      = 26
	hdrSyscallNr = 28
	hdrPID       = 32
	hdrTID       = 36
	hdrPPID      = 40
	hdrComm      = 48
	commLen      = 16 // TASK_COMM_LEN
)

// Offsets in struct fork_body.
const (
	forkChildPID = 0
	forkChildTID = 4
	forkFlags    = 8
)

// Offsets in struct exec_body.
const (
	execUID          = 0
	execGID          = 4
	execEUID         = 8
	execEGID         = 12
	execLoginUID     = 16
	execTTY          = 20
	execSID          = 24
	execPGID         = 28
	execCapEffective = 32
	execCapPermitted = 40
	execMntNS        = 48
	execFlags        = 52
	execStdio        = 56 // three u8
	execLport        = 60
	execRport        = 62
	execLaddr        = 64
	execRaddr        = 80
)

// Standard fd bits of exec_body.stdio, as STDIO_TYPE and STDIO_ADDR.
const (
	stdioTypeMask = 0x0f
	stdioAddr     = 0x80
)

// Offsets in struct exit_body.
const exitCode = 0

// Offsets in struct open_body.
const (
	openDirfd   = 0
	openFlags   = 4
	openMode    = 8
	openResolve = 16
)

// Offsets in struct socket_body.
const (
	sockFD       = 0
	sockFamily   = 4
	sockType     = 6
	sockProtocol = 8
	sockLport    = 10
	sockRport    = 12
	sockOp       = 14
	sockLaddr    = 16
	sockRaddr    = 32
	sockBacklog  = 48
)

// Offsets in struct syscall_body.
const (
	sysArgs = 0 // six u64
	sysSpec = 48
)

// Kinds as numbered in bpf/vigil.h.
const (
	wireFork    = 1
	wireExec    = 2
	wireExit    = 3
	wireOpen    = 4
	wireSocket  = 5
	wireSyscall = 6
)

// Slot types, as SLOT_* in bpf/vigil.h.
const (
	slotPath   = 1
	slotPathAt = 2
	slotFD     = 5
)
