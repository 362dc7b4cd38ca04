package detect

import (
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// Helper modes for the fd-table and syscall-family end-to-end tests. They
// run in a child of the test, which the agent does not filter out.

func init() {
	helpers["revshell"] = helperReverseShell
	helpers["families"] = helperFamilies
}

// helperReverseShell is the classic reverse shell: connect to the
// address in VIGIL_DETECT_ADDR, put the socket on fds 0, 1 and 2, and exec
// a shell that reads a line from its stdin and echoes it back.
func helperReverseShell() error {
	ap, err := netip.ParseAddrPort(os.Getenv("VIGIL_DETECT_ADDR"))
	if err != nil {
		return err
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	if err := unix.Connect(fd, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		return err
	}
	for target := range 3 {
		// dup2 itself, not the dup3 that x/sys uses on some architectures.
		if _, _, errno := unix.Syscall(unix.SYS_DUP2, uintptr(fd), uintptr(target), 0); errno != 0 {
			return errno
		}
	}
	return syscall.Exec("/bin/sh", []string{"sh", "-c", `read line; echo "$line"`}, os.Environ())
}

// helperFamilies makes one call of several generic families whose
// arguments rules test symbolically: ptrace, unshare, mount, umount2,
// memfd_create, an AF_PACKET socket and kill. VIGIL_DETECT_DIR is the
// mount point.
func helperFamilies() error {
	dir := os.Getenv("VIGIL_DETECT_DIR")
	// Namespaces and ptrace belong to the calling thread.
	runtime.LockOSThread()
	child := exec.Command("/bin/sleep", "30")
	if err := child.Start(); err != nil {
		return err
	}
	pid := child.Process.Pid
	if err := unix.PtraceAttach(pid); err != nil {
		return err
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil {
		return err
	}
	if err := unix.PtraceDetach(pid); err != nil {
		return err
	}

	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return err
	}
	// Keep the test mount out of the host's namespace.
	if err := unix.Mount("none", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return err
	}
	if err := unix.Mount("vigil-e2e", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=1m"); err != nil {
		return err
	}
	if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
		return err
	}

	mfd, err := unix.MemfdCreate("vigil-e2e", unix.MFD_CLOEXEC)
	if err != nil {
		return err
	}
	unix.Close(mfd)
	const ethPAll = 0x0300 // htons(ETH_P_ALL)
	if s, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, ethPAll); err == nil {
		unix.Close(s)
	} else {
		return err
	}
	// kill(2) itself, which the "E2E kill" rule watches: os.Process.Kill
	// signals through a pidfd where it can.
	if err := unix.Kill(pid, unix.SIGKILL); err != nil {
		return err
	}
	_ = child.Wait() // "signal: killed", as intended
	return nil
}
