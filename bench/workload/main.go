// Command workload runs fixed syscall loops and prints ns per operation as
// JSON. The bench harness runs it with and without an agent and compares.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

type result struct {
	Name    string  `json:"name"`
	Ops     int     `json:"ops"`
	NsPerOp float64 `json:"ns_per_op"`
}

func measure(name string, ops int, fn func(n int) error) result {
	start := time.Now()
	if err := fn(ops); err != nil {
		fmt.Fprintf(os.Stderr, "workload %s: %v\n", name, err)
		os.Exit(1)
	}
	return result{Name: name, Ops: ops, NsPerOp: float64(time.Since(start).Nanoseconds()) / float64(ops)}
}

func openClose(dir string) func(int) error {
	path := filepath.Join(dir, "bench-open")
	os.WriteFile(path, []byte("x"), 0o644)
	return func(n int) error {
		for range n {
			fd, err := unix.Open(path, unix.O_RDONLY, 0)
			if err != nil {
				return err
			}
			unix.Close(fd)
		}
		return nil
	}
}

func forkExec(n int) error {
	for range n {
		if err := exec.Command("/bin/true").Run(); err != nil {
			return err
		}
	}
	return nil
}

func connectAccept(n int) error {
	srv, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	defer unix.Close(srv)
	unix.SetsockoptInt(srv, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(srv, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return err
	}
	if err := unix.Listen(srv, 128); err != nil {
		return err
	}
	addr, _ := unix.Getsockname(srv)
	for range n {
		cli, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		if err != nil {
			return err
		}
		// SO_LINGER 0 closes with RST, so the loop leaves no TIME_WAIT behind.
		unix.SetsockoptLinger(cli, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
		if err := unix.Connect(cli, addr); err != nil {
			return err
		}
		conn, _, err := unix.Accept(srv)
		if err != nil {
			return err
		}
		unix.Close(conn)
		unix.Close(cli)
	}
	return nil
}

func getpid(n int) error {
	for range n {
		unix.Getpid()
	}
	return nil
}

func main() {
	scale := flag.Float64("scale", 1, "multiply every loop's iteration count")
	flag.Parse()
	dir, err := os.MkdirTemp("", "vigil-workload")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	n := func(base int) int { return max(1, int(float64(base)**scale)) }
	results := []result{
		measure("open_close", n(200000), openClose(dir)),
		measure("fork_exec", n(2000), forkExec),
		measure("connect_accept", n(20000), connectAccept),
		measure("getpid", n(2000000), getpid),
	}
	json.NewEncoder(os.Stdout).Encode(results)
}
