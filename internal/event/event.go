// Package event defines the enriched kernel event that flows through Vigil's
// pipeline, from the decoder to the process table, the rule engine and the
// outputs.
//
// Events are pooled: the decoder fills a recycled *Event, and whoever ends the
// event's journey calls Release. Strings inside an Event are views into its
// private buffer and stay valid only until Release; a stage that keeps a
// string beyond that must copy it (strings.Clone).
package event

import (
	"net/netip"
	"strings"
	"sync"
)

// Kind says which kernel hook produced an event and which body it carries.
type Kind uint16

// Event kinds. The numbers match EVENT_* in bpf/vigil.h.
const (
	KindInvalid Kind = 0
	KindFork    Kind = 1 // sched_process_fork: a new process or thread
	KindExec    Kind = 2 // successful exec (sched_process_exec) or a failed execve/execveat
	KindExit    Kind = 3 // the last thread of a process exited
	KindOpen    Kind = 4 // open, openat, openat2, creat at syscall exit
	KindSocket  Kind = 5 // connect, accept, accept4, bind, listen at syscall exit
	KindSyscall Kind = 6 // any other captured syscall: raw arguments plus decoded slots
)

var kindNames = [...]string{"invalid", "fork", "exec", "exit", "open", "socket", "syscall"}

// String returns the kind's lower-case name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// ExecFlags are facts about an executed file.
type ExecFlags uint32

// Exec flags. They match EXEC_F_* in bpf/vigil.h.
const (
	ExecFromMemfd     ExecFlags = 1 << 0 // the executable is a memfd (fileless execution)
	ExecUpperLayer    ExecFlags = 1 << 1 // the executable lives on an overlayfs upper layer
	ExecLoginUIDSet   ExecFlags = 1 << 2 // loginuid was readable on this kernel
	ExecArgsTruncated ExecFlags = 1 << 3 // argv was longer than the capture limit
	// ExecSecure marks a secure exec (AT_SECURE): the program gained
	// privileges through a set-user-ID or set-group-ID bit or file
	// capabilities, so the dynamic loader distrusts the environment.
	ExecSecure       ExecFlags = 1 << 4
	ExecEnvTruncated ExecFlags = 1 << 5 // the loader environment was longer than the capture limit
	// ExecStdio marks an exec whose Stdio the kernel filled: the exec
	// hook read the new program's fds 0, 1 and 2.
	ExecStdio ExecFlags = 1 << 6
)

// StdioType is what a standard fd (0, 1 or 2) referred to when a program
// started. The numbers match STDIO_* in bpf/vigil.h.
type StdioType uint8

// Standard fd types.
const (
	StdioNone  StdioType = 0 // not open
	StdioFile  StdioType = 1 // a regular file or a device (a terminal)
	StdioDir   StdioType = 2
	StdioPipe  StdioType = 3
	StdioIPv4  StdioType = 4
	StdioIPv6  StdioType = 5
	StdioUnix  StdioType = 6
	StdioOther StdioType = 7 // a socket of another family, an anonymous inode
)

// Stdio describes fds 0, 1 and 2 as a program started. Local and Remote
// are the ends of the first IP socket among them; Addr[i] says whether fd
// i is that socket.
type Stdio struct {
	Type          [3]StdioType
	Addr          [3]bool
	Local, Remote netip.AddrPort
}

// Fork describes a new task. The event's own PID and TID are the parent's.
type Fork struct {
	ChildPID uint32 // thread-group id of the child
	ChildTID uint32 // thread id of the child
	IsThread bool   // the child shares the parent's thread group
}

// Exec describes a program execution. For a failed exec (Event.Ret < 0) the
// credentials are those of the calling process and Exe is empty.
type Exec struct {
	Filename string // the path passed to exec, as given
	Exe      string // absolute path of the executable that now runs
	Cwd      string
	Args     string // argv, NUL separated, no trailing NUL
	// LoaderEnv holds the LD_* and GLIBC_TUNABLES entries of the new
	// program's environment, NUL separated, for a secure exec only
	// (ExecSecure); it is empty otherwise. The rest of an environment is
	// never captured.
	LoaderEnv    string
	UID, GID     uint32 // real ids
	EUID, EGID   uint32
	LoginUID     uint32 // 0xffffffff when unset
	TTY          uint32 // controlling terminal as /proc/<pid>/stat tty_nr encodes it; 0 for none
	SID, PGID    uint32 // session and process group leader pids, host namespace
	CapEffective uint64
	CapPermitted uint64
	MntNS        uint32 // mount namespace inode number
	Flags        ExecFlags
	Stdio        Stdio // the new program's fds 0, 1 and 2, when Flags has ExecStdio
}

// Argv splits Args into its elements. It allocates; the hot path should use
// Args directly.
func (e *Exec) Argv() []string {
	if e.Args == "" {
		return nil
	}
	return strings.Split(e.Args, "\x00")
}

// Exit describes the end of a process.
type Exit struct {
	Code       uint32 // exit status as passed to exit(), 0-255
	Signal     uint32 // the signal that killed the process, 0 if none
	CoreDumped bool
}

// Open describes an open, openat, openat2 or creat call. Event.Ret is the new
// fd or a negative errno.
type Open struct {
	Path    string // absolute, lexically cleaned path
	RawPath string // the path argument as the process passed it
	DirFD   int32  // the dirfd argument (AT_FDCWD = -100 for open and creat)
	Flags   uint32 // O_* flags
	Mode    uint32 // permission bits for O_CREAT/O_TMPFILE
	Resolve uint64 // openat2 RESOLVE_* flags
}

// SocketOp names the socket call. The numbers match H_* in bpf/vigil.h.
type SocketOp uint16

// Socket operations.
const (
	OpConnect SocketOp = 5
	OpAccept  SocketOp = 6 // accept and accept4
	OpBind    SocketOp = 7
	OpListen  SocketOp = 8
)

// String returns the operation's lower-case name.
func (o SocketOp) String() string {
	switch o {
	case OpConnect:
		return "connect"
	case OpAccept:
		return "accept"
	case OpBind:
		return "bind"
	case OpListen:
		return "listen"
	}
	return "unknown"
}

// Socket describes connect, accept, accept4, bind and listen. Event.Ret is the
// syscall result (for accept, the new fd).
type Socket struct {
	Op         SocketOp
	FD         int32 // the socket the call operated on (for accept, the listening socket)
	Family     uint16
	Type       uint16 // SOCK_STREAM, SOCK_DGRAM, ...
	Protocol   uint16 // IPPROTO_*
	Local      netip.AddrPort
	Remote     netip.AddrPort
	LocalPath  string // unix sockets
	RemotePath string // unix sockets
	Backlog    int32  // listen only
}

// SlotType says how an argument slot was decoded (see syscalls.SlotType;
// the numbers match SLOT_* in bpf/vigil.h).
type SlotType uint8

// Slot is one decoded argument of a generic syscall.
type Slot struct {
	Index uint8    // which argument (0-5)
	Type  SlotType // 0 means the slot is unused
	// Value is the argument as the process passed it: a path or string,
	// or raw bytes (sockaddr, buffer prefix, the two fds of a pipe).
	Value string
	// Path is the absolute, cleaned path for path slots, and the path of
	// the file an fd slot refers to.
	Path string
}

// Syscall describes a syscall without a dedicated body.
type Syscall struct {
	Args  [6]uint64
	Slots [3]Slot
}

// Event is one kernel event after decoding. Only the body that matches Kind
// is meaningful.
type Event struct {
	Kind      Kind
	Syscall   int32  // syscall number, or -1 for scheduler hooks
	Timestamp uint64 // CLOCK_MONOTONIC nanoseconds at capture
	CgroupID  uint64 // cgroup v2 id of the task
	Ret       int64  // syscall return value; exec: 0 or -errno
	PID       uint32 // thread-group id (the "process id")
	TID       uint32 // thread id
	PPID      uint32 // thread-group id of the real parent
	Comm      string

	Fork   Fork
	Exec   Exec
	Exit   Exit
	Open   Open
	Socket Socket
	Sys    Syscall

	// buf holds the bytes every string field above points into.
	buf []byte
}

// Buffer returns the event's private byte buffer, emptied and with room for
// at least n bytes. The decoder copies a record there and points strings at it.
func (e *Event) Buffer(n int) []byte {
	if cap(e.buf) < n {
		e.buf = make([]byte, 0, n)
	}
	return e.buf[:0]
}

// BufferBytes returns the buffer's current contents.
func (e *Event) BufferBytes() []byte { return e.buf }

// SetBuffer records the buffer returned by Buffer after it was filled.
func (e *Event) SetBuffer(b []byte) { e.buf = b }

// Reset clears every field but keeps the buffer's memory for reuse.
func (e *Event) Reset() {
	buf := e.buf[:0]
	*e = Event{buf: buf}
}

// maxPooledBuffer keeps one unusually large event from pinning memory in the pool.
const maxPooledBuffer = 64 << 10

var pool = sync.Pool{New: func() any { return new(Event) }}

// New returns an empty event from the pool.
func New() *Event {
	return pool.Get().(*Event)
}

// Release returns the event to the pool. The event and every string taken from
// it must not be used afterwards.
func (e *Event) Release() {
	if cap(e.buf) > maxPooledBuffer {
		e.buf = nil
	}
	e.Reset()
	pool.Put(e)
}

// Clone returns a copy of the event that owns its strings and does not
// belong to the pool: it stays valid after e is released.
func (e *Event) Clone() *Event {
	c := *e
	c.buf = nil
	c.Comm = strings.Clone(e.Comm)
	c.Exec.Filename = strings.Clone(e.Exec.Filename)
	c.Exec.Exe = strings.Clone(e.Exec.Exe)
	c.Exec.Cwd = strings.Clone(e.Exec.Cwd)
	c.Exec.Args = strings.Clone(e.Exec.Args)
	c.Exec.LoaderEnv = strings.Clone(e.Exec.LoaderEnv)
	c.Open.Path = strings.Clone(e.Open.Path)
	c.Open.RawPath = strings.Clone(e.Open.RawPath)
	c.Socket.LocalPath = strings.Clone(e.Socket.LocalPath)
	c.Socket.RemotePath = strings.Clone(e.Socket.RemotePath)
	for i := range c.Sys.Slots {
		c.Sys.Slots[i].Value = strings.Clone(e.Sys.Slots[i].Value)
		c.Sys.Slots[i].Path = strings.Clone(e.Sys.Slots[i].Path)
	}
	return &c
}
