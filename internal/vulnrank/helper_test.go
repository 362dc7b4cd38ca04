package vulnrank

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// TestMain turns the test binary into a helper process when asked: it
// maps the file VULNRANK_HELPER_MAP (as a shared library would be), listens
// on VULNRANK_HELPER_LISTEN if set, prints "ready ADDR" and stays until its
// stdin closes.
func TestMain(m *testing.M) {
	if path := os.Getenv("VULNRANK_HELPER_MAP"); path != "" {
		os.Exit(runHelper(path, os.Getenv("VULNRANK_HELPER_LISTEN")))
	}
	os.Exit(m.Run())
}

func runHelper(path, listen string) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, 4096, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	defer syscall.Munmap(mem) //nolint:errcheck // the helper exits next, and the mapping with it
	addr := "-"
	if listen != "" {
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		defer ln.Close()
		addr = ln.Addr().String()
	}
	fmt.Println("ready", addr)
	_, _ = io.Copy(io.Discard, os.Stdin) // to EOF, or an error: either way the test is done with it
	return 0
}

// helper is a running helper process.
type helper struct {
	cmd  *exec.Cmd
	addr string
}

// startHelper runs the test binary as a helper, through prefix (e.g.
// nsenter into a network namespace) when given, and waits until it is
// ready. It is stopped when the test ends.
func startHelper(t *testing.T, mapFile, listen string, prefix ...string) *helper {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{}, prefix...), exe, "-test.run=^$")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "VULNRANK_HELPER_MAP="+mapFile, "VULNRANK_HELPER_LISTEN="+listen)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close() // EOF ends the helper
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper %v: %v", args, err)
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready ") {
		t.Fatalf("helper %v: %q %v", args, line, err)
	}
	return &helper{cmd: cmd, addr: strings.TrimSpace(strings.TrimPrefix(line, "ready "))}
}
