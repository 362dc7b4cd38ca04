package sensor

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/testutil"
)

// Helpers for the syscall-family tests. Each runs in a child process and
// makes real syscalls whose results the tests predict exactly and check
// as the sensor recorded them; so the helpers drop those results (`_ =`),
// failures included where a failing call is what the test expects. Setup
// steps are checked.

// sys makes a raw syscall: x/sys/unix implements many calls through their
// *at variants, and these tests need the exact syscall named.
func sys(nr uintptr, args ...any) {
	var a [6]uintptr
	for i, v := range args {
		switch v := v.(type) {
		case string:
			p, _ := unix.BytePtrFromString(v)
			a[i] = uintptr(unsafe.Pointer(p))
		case int:
			a[i] = uintptr(v)
		}
	}
	_, _, _ = unix.Syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
}

func helperFiles(dir string) error {
	j := func(name string) string { return filepath.Join(dir, name) }
	if err := os.WriteFile(j("a"), []byte("data"), 0o644); err != nil {
		return err
	}
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	sys(unix.SYS_MKDIR, j("d1"), 0o750)
	sys(unix.SYS_MKDIRAT, dfd, "d2", 0o700)
	sys(unix.SYS_RENAME, j("a"), j("b"))
	sys(unix.SYS_RENAMEAT2, dfd, "b", dfd, "c", unix.RENAME_NOREPLACE)
	sys(unix.SYS_SYMLINK, "c", j("sym"))
	sys(unix.SYS_SYMLINKAT, "/etc/passwd", dfd, "sym2")
	sys(unix.SYS_LINK, j("c"), j("hard"))
	sys(unix.SYS_LINKAT, dfd, "hard", dfd, "hard2", 0)
	sys(unix.SYS_CHMOD, j("c"), 0o600)
	sys(unix.SYS_FCHMODAT, dfd, "c", 0o640)
	sys(unix.SYS_CHOWN, j("c"), 1, 2)
	sys(unix.SYS_LCHOWN, j("sym"), 3, 4)
	sys(unix.SYS_FCHOWNAT, dfd, "c", 5, 6, 0)
	sys(unix.SYS_TRUNCATE, j("c"), 2)
	fd, err := unix.Open(j("c"), unix.O_RDWR, 0)
	if err != nil {
		return err
	}
	sys(unix.SYS_FCHMOD, fd, 0o604)
	sys(unix.SYS_FCHOWN, fd, 7, 8)
	sys(unix.SYS_FTRUNCATE, fd, 1)
	sys(unix.SYS_UNLINK, j("hard"))
	sys(unix.SYS_UNLINKAT, dfd, "d2", unix.AT_REMOVEDIR)
	sys(unix.SYS_RMDIR, j("d1"))
	sys(unix.SYS_UNLINK, j("missing")) // ENOENT
	return nil
}

func helperFDs() error {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return err
	}
	d, _ := unix.Dup(p[0])
	sys(unix.SYS_DUP2, p[1], 40)
	_ = unix.Dup3(p[1], 41, unix.O_CLOEXEC)
	_, _ = unix.FcntlInt(uintptr(p[0]), unix.F_DUPFD_CLOEXEC, 50)
	unix.Close(d)
	unix.Close(999) // EBADF
	fds, _ := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	_ = unix.Shutdown(fds[0], unix.SHUT_WR)
	return nil
}

func helperNetIO() error {
	srv, _ := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	_ = unix.Bind(srv, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	addr, _ := unix.Getsockname(srv)
	cli, _ := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	_ = unix.Sendto(cli, []byte("ping"), 0, addr)
	buf := make([]byte, 16)
	_, _, _ = unix.Recvfrom(srv, buf, 0)
	_, _ = unix.SendmsgN(cli, []byte("pong"), nil, addr, 0)
	_, _, _, _, _ = unix.Recvmsg(srv, buf, nil, 0)
	return nil
}

func helperProcs() error {
	_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&[]byte("vigil-renamed\x00")[0])), 0, 0, 0)
	fd, _ := unix.MemfdCreate("vigil-memfd", unix.MFD_CLOEXEC)
	unix.Close(fd)
	_ = unix.Kill(os.Getpid(), 0)
	_ = unix.Tgkill(os.Getpid(), unix.Gettid(), 0)
	// ptrace: attach to a child we own, then let it go.
	child := exec.Command("/bin/sleep", "30")
	if err := child.Start(); err != nil {
		return err
	}
	pid := child.Process.Pid
	fmt.Println(pid)
	runtime.LockOSThread() // ptrace requests must come from the tracing thread
	_ = unix.PtraceAttach(pid)
	var ws unix.WaitStatus
	_, _ = unix.Wait4(pid, &ws, 0, nil)
	_ = unix.PtraceDetach(pid)
	testutil.KillAndWait(child)
	return nil
}

// helperTraceme asks to be traced by its parent, the test process.
func helperTraceme() error {
	_, _, errno := unix.RawSyscall(unix.SYS_PTRACE, unix.PTRACE_TRACEME, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// helperSetuid runs as an unprivileged user and tries to become root.
func helperSetuid() error {
	_, _, errno := unix.RawSyscall(unix.SYS_SETUID, 0, 0, 0)
	if errno != unix.EPERM {
		return errno
	}
	return nil
}

func helperKernel(dir string) error {
	path := filepath.Join(dir, "not-a-module.ko")
	if err := os.WriteFile(path, []byte("not an ELF module"), 0o644); err != nil {
		return err
	}
	fd, err := unix.Open(path, unix.O_RDONLY, 0)
	if err != nil {
		return err
	}
	_ = unix.FinitModule(fd, "vigil_param=1", 0)                   // not an ELF module: fails
	_ = unix.DeleteModule("vigil_no_such_module", unix.O_NONBLOCK) // ENOENT
	return nil
}

func helperNamespaces(dir string) error {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return err
	}
	_ = unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, "")
	target := filepath.Join(dir, "mnt")
	if err := os.Mkdir(target, 0o755); err != nil {
		return err
	}
	_ = unix.Mount("vigil-tmpfs", target, "tmpfs", unix.MS_NOSUID, "size=1m")
	_ = unix.Unmount(target, unix.MNT_DETACH)
	fd, _ := unix.Open("/proc/self/ns/uts", unix.O_RDONLY, 0)
	_ = unix.Setns(fd, unix.CLONE_NEWUTS)
	_ = unix.PivotRoot(dir, target) // EINVAL: dir is not a mount point
	return syscall.Chroot(dir)
}
