package sensor

import (
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/unix"
)

// helperMain runs in a child process and performs the syscalls a test wants
// the sensor to see. It prints facts the parent needs, one per line.
func helperMain(mode string, args []string) int {
	var err error
	switch mode {
	case "openat":
		err = helperOpenat(args[0])
	case "net":
		err = helperNet(args[0])
	case "memfd":
		err = helperMemfd(args[0])
	case "files":
		err = helperFiles(args[0])
	case "fds":
		err = helperFDs()
	case "netio":
		err = helperNetIO()
	case "procs":
		err = helperProcs()
	case "traceme":
		err = helperTraceme()
	case "setuid":
		err = helperSetuid()
	case "kernel":
		err = helperKernel(args[0])
	case "namespaces":
		err = helperNamespaces(args[0])
	case "execfail":
		err = unix.Exec(args[0], []string{args[0], "x"}, nil)
	default:
		err = fmt.Errorf("unknown helper mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	return 0
}

// helperOpenat opens through a directory fd with a relative path that needs
// cleaning, then uses openat2 and creat.
func helperOpenat(dir string) error {
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		return err
	}
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	fd, err := unix.Openat(dfd, "sub/../target.txt", unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	how := unix.OpenHow{Flags: unix.O_RDONLY, Resolve: unix.RESOLVE_NO_SYMLINKS}
	fd2, err := unix.Openat2(dfd, "./target.txt", &how)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "created.txt")
	p, _ := unix.BytePtrFromString(path)
	fd3, _, errno := unix.Syscall(unix.SYS_CREAT, uintptr(unsafe.Pointer(p)), 0o600, 0)
	if errno != 0 {
		return errno
	}
	fmt.Println(fd, fd2, fd3)
	_, err = unix.Openat(dfd, "missing/none.txt", unix.O_RDONLY, 0)
	if err != unix.ENOENT {
		return fmt.Errorf("open missing: %v", err)
	}
	return nil
}

// helperNet connects a client to a server inside this one process, for
// TCP over IPv4 and IPv6, UDP and a unix stream socket, printing each pair.
func helperNet(unixPath string) error {
	for _, c := range []struct {
		family, typ int
		addr        unix.Sockaddr
	}{
		{unix.AF_INET, unix.SOCK_STREAM, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}},
		{unix.AF_INET6, unix.SOCK_STREAM, &unix.SockaddrInet6{Addr: [16]byte{15: 1}}},
		{unix.AF_INET, unix.SOCK_DGRAM, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}},
		{unix.AF_INET6, unix.SOCK_DGRAM, &unix.SockaddrInet6{Addr: [16]byte{15: 1}}},
		{unix.AF_UNIX, unix.SOCK_STREAM, &unix.SockaddrUnix{Name: unixPath}},
	} {
		srv, err := unix.Socket(c.family, c.typ, 0)
		if err != nil {
			return err
		}
		if err := unix.Bind(srv, c.addr); err != nil {
			return fmt.Errorf("bind: %w", err)
		}
		bound, err := unix.Getsockname(srv)
		if err != nil {
			return err
		}
		if c.typ == unix.SOCK_STREAM {
			if err := unix.Listen(srv, 8); err != nil {
				return err
			}
		}
		cli, err := unix.Socket(c.family, c.typ, 0)
		if err != nil {
			return err
		}
		if err := unix.Connect(cli, bound); err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		local, err := unix.Getsockname(cli)
		if err != nil {
			return err
		}
		if c.typ == unix.SOCK_STREAM {
			nfd, _, err := unix.Accept4(srv, unix.SOCK_CLOEXEC)
			if err != nil {
				return fmt.Errorf("accept: %w", err)
			}
			unix.Close(nfd)
		}
		fmt.Printf("%d %d %s %s\n", c.family, c.typ, sockaddrString(local), sockaddrString(bound))
		unix.Close(cli)
		unix.Close(srv)
	}
	return nil
}

func sockaddrString(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return fmt.Sprintf("%d.%d.%d.%d:%d", a.Addr[0], a.Addr[1], a.Addr[2], a.Addr[3], a.Port)
	case *unix.SockaddrInet6:
		return fmt.Sprintf("[::1]:%d", a.Port)
	case *unix.SockaddrUnix:
		if a.Name == "" {
			return "-"
		}
		return a.Name
	}
	return "?"
}

// helperMemfd runs the program at path from an anonymous memory file, the
// way fileless malware does.
func helperMemfd(path string) error {
	code, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fd, err := unix.MemfdCreate("vigil-fileless", 0)
	if err != nil {
		return err
	}
	if _, err := unix.Write(fd, code); err != nil {
		return err
	}
	empty, _ := unix.BytePtrFromString("")
	argv0, _ := unix.BytePtrFromString("fileless")
	argv := []*byte{argv0, nil}
	envv := []*byte{nil}
	_, _, errno := unix.Syscall6(unix.SYS_EXECVEAT, uintptr(fd), uintptr(unsafe.Pointer(empty)),
		uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envv[0])), unix.AT_EMPTY_PATH, 0)
	return errno
}
