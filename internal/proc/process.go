package proc

import (
	"strings"

	"github.com/vigilsec/vigil/internal/event"
)

// NoLoginUID is the loginuid of a process that never logged in
// ((uid_t)-1 in the kernel).
const NoLoginUID = 0xffffffff

// Image is what a process is running and as whom: everything an exec sets.
// An Image is immutable once the table has published it, and a forked child
// shares its parent's Image until it execs, which is what makes forks cheap.
// Callers must not modify an Image they got from the table.
type Image struct {
	Comm string // task name, at most 15 bytes on most kernels
	Exe  string // absolute path of the executable; empty for kernel threads
	Args string // argv, NUL separated, no trailing NUL; see Argv
	Cwd  string
	// LoaderEnv is the LD_* and GLIBC_TUNABLES part of the environment of
	// a secure exec (Flags has event.ExecSecure), NUL separated; empty
	// for other execs. For a process running before Vigil started, it is
	// read from /proc/<pid>/environ when its auxv says AT_SECURE.
	LoaderEnv string

	UID, GID     uint32 // real ids
	EUID, EGID   uint32 // effective ids
	LoginUID     uint32 // NoLoginUID when unset or unknown
	TTY          uint32 // tty_nr encoding, 0 for none
	SID, PGID    uint32
	CapEffective uint64
	CapPermitted uint64
	MntNS        uint32 // mount namespace inode, 0 if unknown
	Flags        event.ExecFlags

	// ExecTime is the monotonic time of the exec that produced this image, 0
	// when the image came from /proc or was inferred from a fork. A forked
	// child reports its parent's exec time: it runs the program that exec
	// loaded.
	ExecTime uint64
}

// Argv splits Args into its elements. It allocates, so hot paths should
// scan Args directly.
func (im *Image) Argv() []string {
	if im == nil || im.Args == "" {
		return nil
	}
	return strings.Split(im.Args, "\x00")
}

// emptyImage backs the Process returned for a miss, so that reading fields
// of a Process never dereferences nil.
var emptyImage = Image{LoginUID: NoLoginUID}

// Process is one table entry. It is a small value (the per-process facts
// plus a pointer to the shared Image) so that handing one out costs no
// allocation and the copy a caller holds never changes.
type Process struct {
	PID  uint32 // thread-group id
	PPID uint32 // thread-group id of the parent as last reported

	// Serial identifies this process independently of pid reuse and of
	// which thread an event came from: it is assigned once when the entry
	// is created (by fork, seeding, or an exec for an unknown pid), survives
	// exec and reparenting, and is never reused by the table.
	Serial uint64

	// StartTime is the process start in CLOCK_MONOTONIC nanoseconds, 0 when
	// unknown (for example when the first thing seen was an exec).
	StartTime uint64

	// CgroupID is the cgroup v2 id, 0 if unknown. Unlike the Image it
	// follows the latest event, because a process can change cgroups
	// without exec.
	CgroupID uint64

	// Seeded is true when the entry was created from /proc at start rather
	// than from an event.
	Seeded bool

	// Files is the process's fd table, shared by its threads. It is set
	// for every entry the table creates and stays the same object for the
	// life of the process; it may be nil in a Process built by hand.
	Files *Files

	*Image
}
