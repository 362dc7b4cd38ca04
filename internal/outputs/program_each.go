package outputs

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
)

// EachProgramConfig configures an EachProgramSink.
type EachProgramConfig struct {
	// Command runs with /bin/sh -c, once per alert.
	Command string
	// Encoding renders the line written to its stdin; the zero value is
	// JSON.
	Encoding Encoding
	// MaxConcurrent bounds the programs running at once; <= 0 means 4.
	// Send waits for a free slot, so a slow program holds back the
	// output's queue (which bounds what waits), never the detector.
	MaxConcurrent int
	// Timeout kills a program still running this long after it started;
	// <= 0 means 30s.
	Timeout time.Duration
}

// EachProgramSink starts the program once per alert and writes the
// alert's line to its stdin, which it then closes, as Falco's
// program_output does with keep_alive: false. An alert counts as sent
// once its program started; like Falco, the sink does not judge how the
// program exits.
type EachProgramSink struct {
	cfg   EachProgramConfig
	slots chan struct{}
	wg    sync.WaitGroup

	starts, exits, killed atomic.Uint64
}

// NewEachProgramSink checks cfg.
func NewEachProgramSink(cfg EachProgramConfig) (*EachProgramSink, error) {
	if cfg.Command == "" {
		return nil, fmt.Errorf("program output: no command")
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 4
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &EachProgramSink{cfg: cfg, slots: make(chan struct{}, cfg.MaxConcurrent)}, nil
}

// Send starts the program for a, once a slot is free.
func (s *EachProgramSink) Send(ctx context.Context, a *alert.Alert) error {
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	cmd := exec.Command("/bin/sh", "-c", s.cfg.Command)
	cmd.Stdin = bytes.NewReader(s.cfg.Encoding.appendLine(nil, a))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	// Its own process group, so that the timeout kills the whole pipeline
	// the shell runs, not the shell alone.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		<-s.slots
		return fmt.Errorf("program output: %w", err)
	}
	s.starts.Add(1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.AfterFunc(s.cfg.Timeout, func() {
			s.killed.Add(1)
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // fails only if the group is gone already
		})
		_ = cmd.Wait() // reaps it: like Falco, the sink does not judge how the program exits
		t.Stop()
		s.exits.Add(1)
		<-s.slots
	}()
	return nil
}

// Starts is how many programs were started.
func (s *EachProgramSink) Starts() uint64 { return s.starts.Load() }

// Exits is how many of them have exited.
func (s *EachProgramSink) Exits() uint64 { return s.exits.Load() }

// Killed is how many were killed for running past the timeout.
func (s *EachProgramSink) Killed() uint64 { return s.killed.Load() }

// Close waits for the programs still running (each is killed at its
// timeout, so this is bounded).
func (s *EachProgramSink) Close() error {
	s.wg.Wait()
	return nil
}
