package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// bpftraceAgent runs lowerbound.bt: tracepoints that only count. Its maps
// are read once, at exit, so per-workload counters stay empty; the totals
// per process name land in last.
type bpftraceAgent struct {
	script, tmp string
	cmd         *exec.Cmd
	mu          sync.Mutex
	out         bytes.Buffer
	last        map[string]map[string]float64 // map name, then comm, to count
}

func newBpftrace(script, tmp string) *bpftraceAgent {
	return &bpftraceAgent{script: script, tmp: tmp}
}

func (b *bpftraceAgent) name() string { return "bpftrace" }

func (b *bpftraceAgent) start() error {
	b.out.Reset()
	b.cmd = exec.Command("bpftrace", b.script)
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	b.cmd.Stdout, b.cmd.Stderr = pw, pw
	if err := b.cmd.Start(); err != nil {
		return errors.Join(err, pw.Close(), pr.Close())
	}
	// The child holds its own copy of the write end; ours must go for
	// the reader to see the end of the output.
	if err := pw.Close(); err != nil {
		reap(b.cmd)
		return err
	}
	attached := make(chan bool, 1)
	go func() {
		defer pr.Close() //nolint:errcheck // read-only: closing loses nothing
		rd := bufio.NewReader(pr)
		sent := false
		for {
			line, err := rd.ReadString('\n')
			b.mu.Lock()
			b.out.WriteString(line)
			b.mu.Unlock()
			if !sent && strings.HasPrefix(line, "Attaching") {
				sent = true
				attached <- true
			}
			if err != nil {
				break
			}
		}
		if !sent {
			attached <- false
		}
	}()
	select {
	case ok := <-attached:
		if !ok {
			_ = b.cmd.Wait() // it exited: its output says why
			return fmt.Errorf("bpftrace exited before attaching:\n%s", b.output())
		}
	case <-time.After(90 * time.Second):
		reap(b.cmd)
		return fmt.Errorf("bpftrace did not attach within 90s")
	}
	// bpftrace prints "Attaching" before it attaches the probes one by one;
	// they are all in place well within this.
	time.Sleep(1500 * time.Millisecond)
	return nil
}

func (b *bpftraceAgent) output() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.String()
}

func (b *bpftraceAgent) stop() error {
	// Its exit status after SIGINT says nothing its printed maps do not.
	if killed, _ := terminate(b.cmd, syscall.SIGINT, 30*time.Second); killed {
		return fmt.Errorf("bpftrace did not stop within 30s")
	}
	time.Sleep(100 * time.Millisecond) // the reader goroutine copies the last lines
	maps, err := parseBpftraceMaps(b.output())
	if err != nil {
		return err
	}
	b.last = maps
	return nil
}

func (b *bpftraceAgent) pids() []int                 { return []int{b.cmd.Process.Pid} }
func (b *bpftraceAgent) snapshot() (counters, error) { return counters{}, nil }
func (b *bpftraceAgent) drain(map[string]int, counters) (counters, error) {
	return counters{}, nil
}

// parseBpftraceMaps reads the maps bpftrace prints at exit, lines such as
// `@open[vigil-workload]: 200000`, into map name, then key, to value.
// Other lines are ignored; a map line that does not parse is an error.
func parseBpftraceMaps(out string) (map[string]map[string]float64, error) {
	maps := map[string]map[string]float64{}
	for i, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "@") {
			continue
		}
		colon := strings.LastIndex(line, ": ")
		if colon < 0 {
			return nil, fmt.Errorf("bpftrace output line %d: no value in %q", i+1, line)
		}
		head, val := line[1:colon], strings.TrimSpace(line[colon+2:])
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return nil, fmt.Errorf("bpftrace output line %d: %w", i+1, err)
		}
		name, key := head, ""
		if open := strings.IndexByte(head, '['); open >= 0 {
			if !strings.HasSuffix(head, "]") {
				return nil, fmt.Errorf("bpftrace output line %d: unclosed key in %q", i+1, line)
			}
			name, key = head[:open], head[open+1:len(head)-1]
		}
		if maps[name] == nil {
			maps[name] = map[string]float64{}
		}
		maps[name][key] += v
	}
	return maps, nil
}
