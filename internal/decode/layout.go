package decode

// Sizes and offsets of the wire structs in bpf/vigil.h. The C side asserts
// the same sizes with _Static_assert, so a layout change breaks the build of
// the eBPF object instead of silently corrupting decoded fields.
const (
	headerSize = 64
	forkSize   = 16
	execSize   = 56
	exitSize   = 8
	openSize   = 24
	socketSize = 56
	sysSize    = 56
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

// Address families used on the wire.
const (
	afUnix  = 1
	afInet  = 2
	afInet6 = 10
)
