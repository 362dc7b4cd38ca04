package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// openFile is the name agents match to count the open loop's events.
const openFile = "vigil-bench-open"

func openClose(dir string, n int, lat []time.Duration) error {
	path := filepath.Join(dir, openFile)
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		return err
	}
	for i := range n {
		t := time.Now()
		fd, err := unix.Open(path, unix.O_RDONLY, 0)
		if err != nil {
			return err
		}
		unix.Close(fd)
		lat[i] = time.Since(t)
	}
	return nil
}

func forkExec(_ string, n int, lat []time.Duration) error {
	for i := range n {
		t := time.Now()
		if err := exec.Command("/bin/true").Run(); err != nil {
			return err
		}
		lat[i] = time.Since(t)
	}
	return nil
}

func connectAccept(_ string, n int, lat []time.Duration) error {
	srv, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	defer unix.Close(srv)
	if err := unix.SetsockoptInt(srv, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return err
	}
	if err := unix.Bind(srv, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return err
	}
	if err := unix.Listen(srv, 128); err != nil {
		return err
	}
	addr, err := unix.Getsockname(srv)
	if err != nil {
		return err
	}
	for i := range n {
		t := time.Now()
		cli, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		if err != nil {
			return err
		}
		// SO_LINGER 0 closes with RST, so the loop leaves no TIME_WAIT behind.
		if err := unix.SetsockoptLinger(cli, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}); err != nil {
			unix.Close(cli)
			return err
		}
		if err := unix.Connect(cli, addr); err != nil {
			unix.Close(cli)
			return err
		}
		conn, _, err := unix.Accept(srv)
		if err != nil {
			unix.Close(cli)
			return err
		}
		unix.Close(conn)
		unix.Close(cli)
		lat[i] = time.Since(t)
	}
	return nil
}

func getpid(_ string, n int, _ []time.Duration) error {
	for range n {
		unix.Getpid()
	}
	return nil
}

// paced opens and closes the marker file at rate pairs per second for d,
// spread over threads, in batches every millisecond so that pacing costs
// little. It reports the rate it reached, which falls short of the target
// when the machine cannot keep up.
func paced(dir string, rate, threads int, d time.Duration) (result, error) {
	path := filepath.Join(dir, openFile)
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		return result{}, err
	}
	threads = max(1, threads)
	perThread := float64(rate) / float64(threads)
	counts := make([]int, threads)
	errs := make([]error, threads)
	var wg sync.WaitGroup
	start := time.Now()
	for t := range threads {
		wg.Go(func() {
			done := 0
			for {
				elapsed := time.Since(start)
				if elapsed >= d {
					break
				}
				due := int(perThread * elapsed.Seconds())
				if done >= due {
					time.Sleep(time.Millisecond)
					continue
				}
				for ; done < due; done++ {
					fd, err := unix.Open(path, unix.O_RDONLY, 0)
					if err != nil {
						errs[t] = err
						return
					}
					unix.Close(fd)
				}
			}
			counts[t] = done
		})
	}
	wg.Wait()
	took := time.Since(start)
	if err := errorsJoin(errs); err != nil {
		return result{}, err
	}
	total := 0
	for _, c := range counts {
		total += c
	}
	return result{Name: "paced_open", Ops: total, NsPerOp: float64(took.Nanoseconds()) / float64(max(1, total)),
		Opens: total + 1, Seconds: took.Seconds()}, nil // + 1: creating the file
}

func errorsJoin(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// p99 is the 99th percentile of lat, 0 for none.
func p99(lat []time.Duration) float64 {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	return float64(s[min(len(s)-1, len(s)*99/100)].Nanoseconds())
}
