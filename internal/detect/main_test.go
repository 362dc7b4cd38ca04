package detect

import (
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"testing"
)

// helperEnv selects a helper mode when the test binary is re-executed: the
// agent ignores its own process, so whatever the rules must see has to be
// done by a child.
const helperEnv = "VIGIL_DETECT_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "connect":
		local, err := blockingConnect(os.Getenv("VIGIL_DETECT_ADDR"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println(local)
		os.Exit(0)
	default:
		if h, ok := helpers[os.Getenv(helperEnv)]; ok {
			if err := h(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "unknown helper mode")
		os.Exit(2)
	}
}

// helpers are the other helper modes, registered by the files that use
// them.
var helpers = map[string]func() error{}

// blockingConnect connects a blocking TCP socket to addr and returns the
// local end, which the test needs to know the exact fd.name. Go's net
// package connects without blocking, which the kernel reports as
// EINPROGRESS; a blocking connect makes the result SUCCESS.
func blockingConnect(addr string) (string, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return "", err
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		return "", err
	}
	defer syscall.Close(fd)
	if err := syscall.Connect(fd, &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		return "", err
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		return "", err
	}
	in := sa.(*syscall.SockaddrInet4)
	return netip.AddrPortFrom(netip.AddrFrom4(in.Addr), uint16(in.Port)).String(), nil
}
