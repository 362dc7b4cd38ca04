package rules_test

import (
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"
)

// helperEnv makes the test binary act as a helper: a child process that
// performs one attack with raw syscalls, as an exploit or a loader does
// in its own code, where no packaged tool does the same.
const helperEnv = "VIGIL_E2E_HELPER"

// helperArgEnv passes the helper its argument.
const helperArgEnv = "VIGIL_E2E_ARG"

// runHelper performs action and returns the exit code. Failing syscalls
// are often the point (an unprivileged setuid(0)); only a helper that
// could not even try reports failure.
func runHelper(action string) int {
	arg := os.Getenv(helperArgEnv)
	var err error
	switch action {
	case "memfd":
		err = execFromMemfd(arg)
	case "setuid0":
		_, _, errno := unix.RawSyscall(unix.SYS_SETUID, 0, 0, 0)
		fmt.Println("setuid(0):", errno)
	case "userfaultfd":
		_, _, errno := unix.RawSyscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC, 0, 0)
		fmt.Println("userfaultfd:", errno)
	case "bpf_load":
		err = loadBPF()
	case "bpf_get_fd":
		err = getBPFByID()
	case "traceme":
		_, _, errno := unix.RawSyscall(unix.SYS_PTRACE, unix.PTRACE_TRACEME, 0, 0)
		fmt.Println("PTRACE_TRACEME:", errno)
	default:
		err = fmt.Errorf("unknown helper %q", action)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return 0
}

// execFromMemfd copies /bin/true into a memfd named name and executes it
// from there, as in-memory loaders do: the program never exists on disk.
// The memfd is moved to fd 100 first, so that the process's name (the
// kernel takes it from the path executed, /proc/self/fd/100) is known.
func execFromMemfd(name string) error {
	fd, err := unix.MemfdCreate(name, 0)
	if err != nil {
		return err
	}
	src, err := os.Open("/bin/true")
	if err != nil {
		return err
	}
	mem := os.NewFile(uintptr(fd), name)
	if _, err := io.Copy(mem, src); err != nil {
		return err
	}
	const target = 100
	if err := unix.Dup3(fd, target, 0); err != nil {
		return err
	}
	return syscall.Exec(fmt.Sprintf("/proc/self/fd/%d", target), []string{name}, os.Environ())
}

// loadBPF loads the smallest socket filter there is.
func loadBPF() error {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.SocketFilter,
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
		License:      "GPL",
	})
	if err != nil {
		return err
	}
	return prog.Close()
}

// getBPFByID takes a handle on the first loaded BPF program by its id, as
// bpftool does before it dumps, pins or detaches another agent's program.
func getBPFByID() error {
	id, err := ebpf.ProgramGetNextID(0)
	if err != nil {
		return err
	}
	prog, err := ebpf.NewProgramFromID(id)
	if err != nil {
		return err
	}
	return prog.Close()
}
