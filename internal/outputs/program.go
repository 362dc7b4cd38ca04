package outputs

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
)

// ProgramSink pipes each alert as a JSON line to the stdin of a command
// run with /bin/sh -c, and starts it again when it has died. Lines the
// program had not read when it died are lost with it: a pipe has no
// acknowledgement.
type ProgramSink struct {
	command  string
	enc      Encoding
	buffered bool
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	out      lineBuffer
	exited   chan struct{}
	buf      []byte

	starts, exits atomic.Uint64
}

// NewProgramSink starts command; enc renders each line (the zero value
// is JSON).
func NewProgramSink(command string, enc Encoding) (*ProgramSink, error) {
	return newProgramSink(command, enc, false)
}

// NewBufferedProgramSink is NewProgramSink with buffering (Falco's
// buffered_outputs): lines are written in batches, see Flusher.
func NewBufferedProgramSink(command string, enc Encoding) (*ProgramSink, error) {
	return newProgramSink(command, enc, true)
}

func newProgramSink(command string, enc Encoding, buffered bool) (*ProgramSink, error) {
	if command == "" {
		return nil, fmt.Errorf("program output: no command")
	}
	s := &ProgramSink{command: command, enc: enc, buffered: buffered}
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *ProgramSink) start() error {
	cmd := exec.Command("/bin/sh", "-c", s.command)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("program output: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("program output: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		// An exit, however it went, is counted; the next Send restarts
		// the program.
		_ = cmd.Wait()
		s.exits.Add(1)
		close(exited)
	}()
	s.cmd, s.stdin, s.exited = cmd, stdin, exited
	s.out = lineBuffer{w: stdin, buffered: s.buffered, buf: s.out.buf[:0]}
	s.starts.Add(1)
	return nil
}

// Starts is how many times the program was started, restarts included.
func (s *ProgramSink) Starts() uint64 { return s.starts.Load() }

// Exits is how many times the program has exited.
func (s *ProgramSink) Exits() uint64 { return s.exits.Load() }

// Send writes the alert's line, restarting the program first if it has
// exited, and once more if the write finds the pipe broken.
func (s *ProgramSink) Send(_ context.Context, a *alert.Alert) error {
	s.buf = s.enc.appendLine(s.buf[:0], a)
	if s.cmd == nil || s.dead() {
		if err := s.restart(); err != nil {
			return err
		}
	}
	if err := s.out.write(s.buf); err != nil {
		s.stop()
		return fmt.Errorf("program output: %w", err)
	}
	return nil
}

// Flush writes the lines collected.
func (s *ProgramSink) Flush() error {
	if s.cmd == nil {
		return nil
	}
	if err := s.out.flush(); err != nil {
		s.stop()
		return fmt.Errorf("program output: %w", err)
	}
	return nil
}

func (s *ProgramSink) dead() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

func (s *ProgramSink) restart() error {
	s.stop()
	return s.start()
}

// stop closes stdin, which ends a well-behaved program, and kills one
// that is still running so that a restart never leaves two behind.
func (s *ProgramSink) stop() {
	if s.cmd == nil {
		return
	}
	// Errors here are a pipe or a process already gone, which is the
	// state this leaves anyway.
	_ = s.stdin.Close()
	if !s.dead() {
		_ = s.cmd.Process.Kill()
	}
	<-s.exited
	s.cmd = nil
}

// Close closes the program's stdin and waits for it to exit, killing it
// after five seconds so that shutdown is bounded.
func (s *ProgramSink) Close() error {
	if s.cmd == nil {
		return nil
	}
	// A failed flush or close means a pipe already closed: the program is
	// ending either way.
	_ = s.out.flush()
	_ = s.stdin.Close()
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-s.exited:
	case <-t.C:
		_ = s.cmd.Process.Kill() // fails only once it has exited, which <-s.exited waits for
		<-s.exited
	}
	s.cmd = nil
	return nil
}
