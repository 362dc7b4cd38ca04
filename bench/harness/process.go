package main

import (
	"os"
	"os/exec"
	"time"
)

// reap kills cmd's process and waits for it: the way out of a start that
// failed half way. Both errors are expected and dropped: Kill fails once
// the process has exited, and Wait then reports the kill.
func reap(cmd *exec.Cmd) {
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// terminate sends sig to cmd's process and waits up to timeout for it to
// exit, then kills it. It reports whether it had to kill, and Wait's
// error (nil for a clean exit).
func terminate(cmd *exec.Cmd, sig os.Signal, timeout time.Duration) (killed bool, waitErr error) {
	// Signal fails only once the process has exited, which Wait reports.
	_ = cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return false, err
	case <-time.After(timeout):
		_ = cmd.Process.Kill() // as Signal: it may have exited meanwhile
		return true, <-done
	}
}
