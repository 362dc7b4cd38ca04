// Package execguard is Vigil's exec guard, an eBPF object separate from the
// sensor (bpf/execguard.bpf.c) with two jobs:
//
// Argv capture. A fanotify FAN_OPEN_EXEC_PERM listener decides on an exec
// after the kernel has opened the file but before the process image is
// replaced, and fanotify does not carry the new program's argv. A
// raw_tracepoint on sys_enter copies the filename (plus dirfd and flags for
// execveat) and argv of every execve and execveat, bounded to 4 KiB and 64
// arguments with a truncation flag, into an LRU hash keyed by thread id;
// sys_exit of that exec removes it, so Pending(tid) answers exactly while
// the exec is in flight. Every other syscall pays one comparison on entry
// and one register read on exit.
//
// In-kernel kill. A raw_tracepoint on sched_process_exec looks the new
// image up in a deny set, by comm, by the executable's (device, inode), or
// as "any memfd" (fileless execution has neither a path nor a lasting inode),
// scoped to any process, host processes, container processes or one
// cgroup, and calls bpf_send_signal(SIGKILL): the signal is delivered
// before the task returns to user space, so the new program never runs an
// instruction. Every match is reported through a ring buffer (Run).
//
// The deny set lives in a kernel hash map held in slot 0 of an
// array-of-maps. SetKillRules builds the new set in a fresh map and
// swaps it in with one update (a generation flip); a program already
// running keeps the map it looked up, which the kernel frees only after it
// finishes, so no exec is ever checked against half a set.
package execguard
