package rules_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"
)

// helperEnv makes the test binary act as a helper: a child process that
// performs one attack with raw syscalls. The agent never sees its own
// process, so every behaviour has to come from a child.
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
	case "finit_module":
		err = finitModule(arg)
	case "bpf_load":
		err = loadBPF()
	case "bpf_get_fd":
		err = getBPFByID()
	case "ptrace_attach":
		err = ptraceAttach(arg)
	case "traceme":
		_, _, errno := unix.RawSyscall(unix.SYS_PTRACE, unix.PTRACE_TRACEME, 0, 0)
		fmt.Println("PTRACE_TRACEME:", errno)
	case "reverse_shell":
		err = reverseShell(arg)
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
// from there: the program never exists on disk.
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
	path := fmt.Sprintf("/proc/self/fd/%d", fd)
	return syscall.Exec(path, []string{name}, os.Environ())
}

// finitModule asks the kernel to load the file at path as a module. The
// file is no module, so the kernel refuses; the attempt is what counts.
func finitModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	err = unix.FinitModule(int(f.Fd()), "", 0)
	fmt.Println("finit_module:", err)
	return nil
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

// ptraceAttach attaches to the process whose pid is given, then detaches.
func ptraceAttach(pidText string) error {
	var pid int
	if _, err := fmt.Sscan(pidText, &pid); err != nil {
		return err
	}
	runtime.LockOSThread()
	if err := unix.PtraceAttach(pid); err != nil {
		return err
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, unix.WALL, nil); err != nil {
		return err
	}
	return unix.PtraceDetach(pid)
}

// reverseShell connects to addr, puts the socket on stdin and stdout and
// runs a shell there, as one-line python or perl reverse shells do.
func reverseShell(addr string) error {
	c, err := net.DialTimeout("tcp4", addr, 5*time.Second)
	if err != nil {
		return err
	}
	f, err := c.(*net.TCPConn).File()
	if err != nil {
		return err
	}
	for _, fd := range []int{0, 1} {
		if err := unix.Dup2(int(f.Fd()), fd); err != nil {
			return err
		}
	}
	return syscall.Exec("/bin/sh", []string{"sh", "-c", "true " + os.Getenv("VIGIL_E2E_MARKER")}, os.Environ())
}
