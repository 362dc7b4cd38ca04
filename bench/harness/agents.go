package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// agent is one configuration under test.
type agent interface {
	name() string
	start() error
	stop() error
	// pids are the processes whose CPU and memory are the agent's.
	pids() []int
	// snapshot reads the agent's counters now.
	snapshot() (counters, error)
	// drain waits until the agent has delivered what a workload with the
	// given ground truth left in flight, or a bounded time, and returns
	// the counters then.
	drain(truth map[string]int, before counters) (counters, error)
}

// counters are cumulative agent counters; deltas are taken per workload.
type counters struct {
	Events        float64            // events the agent read from the kernel
	KernelDrops   float64            // events the kernel could not hand over
	PipelineDrops float64            // events dropped in user space
	AlertDrops    float64            // alerts dropped on their way out
	Matches       map[string]float64 // per ground-truth kind (exec, open, connect): events of the workload the agent delivered
}

func (c counters) sub(b counters) counters {
	d := counters{Events: c.Events - b.Events, KernelDrops: c.KernelDrops - b.KernelDrops,
		PipelineDrops: c.PipelineDrops - b.PipelineDrops, AlertDrops: c.AlertDrops - b.AlertDrops}
	if c.Matches != nil {
		d.Matches = map[string]float64{}
		for k, v := range c.Matches {
			d.Matches[k] = v - b.Matches[k]
		}
	}
	return d
}

// noAgent is the baseline. After auditd has run it first resets the audit
// state, so that the workload's tasks are not put on the audit slow path.
type noAgent struct {
	resetAudit bool
	label      string
}

func (n noAgent) name() string {
	if n.label != "" {
		return n.label
	}
	return "none"
}
func (n noAgent) start() error {
	if n.resetAudit {
		resetAudit(nil)
	}
	return nil
}
func (noAgent) stop() error                 { return nil }
func (noAgent) pids() []int                 { return nil }
func (noAgent) snapshot() (counters, error) { return counters{}, nil }
func (noAgent) drain(map[string]int, counters) (counters, error) {
	return counters{}, nil
}

// vigilAgent is `vigil run` with its metrics endpoint, scraped per workload.
type vigilAgent struct {
	bin, label string
	args       []string
	addr       string
	cmd        *exec.Cmd
	log        strings.Builder
}

// vigilMetricsAddr is where the agent under test serves its metrics.
const vigilMetricsAddr = "127.0.0.1:19190"

func newVigil(bin, label string, args []string) *vigilAgent {
	return &vigilAgent{bin: bin, label: label, args: args, addr: vigilMetricsAddr}
}

func (v *vigilAgent) name() string { return v.label }

func (v *vigilAgent) start() error {
	v.log.Reset()
	args := append([]string{"run", "--metrics-addr", v.addr, "--log-format", "text"}, v.args...)
	v.cmd = exec.Command(v.bin, args...)
	v.cmd.Stdout = nil // alerts are discarded: their cost is the agent's
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	v.cmd.Stderr = pw
	if err := v.cmd.Start(); err != nil {
		return errors.Join(err, pw.Close(), pr.Close())
	}
	// The child holds its own copy of the write end; ours must go for
	// the reader to see the end of the log.
	if err := pw.Close(); err != nil {
		reap(v.cmd)
		return err
	}
	ready := make(chan error, 1)
	go func() {
		defer pr.Close() //nolint:errcheck // read-only: closing loses nothing
		sc := bufio.NewScanner(pr)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			if len(line) < 4096 && v.log.Len() < 1<<16 {
				v.log.WriteString(line + "\n")
			}
			if !signalled && strings.Contains(line, "running") {
				signalled = true
				ready <- nil
			}
		}
		if !signalled {
			ready <- fmt.Errorf("vigil exited before running")
		}
	}()
	select {
	case err := <-ready:
		if err != nil {
			_ = v.cmd.Wait() // it exited: the log says why
			return fmt.Errorf("%w:\n%s", err, v.log.String())
		}
	case <-time.After(60 * time.Second):
		v.kill()
		return fmt.Errorf("vigil did not start within 60s:\n%s", v.log.String())
	}
	// The metrics server answers once the agent is attached.
	for range 100 {
		if _, err := v.snapshot(); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	v.kill()
	return fmt.Errorf("vigil metrics at %s never answered", v.addr)
}

func (v *vigilAgent) kill() { reap(v.cmd) }

func (v *vigilAgent) stop() error {
	killed, err := terminate(v.cmd, syscall.SIGINT, 30*time.Second)
	switch {
	case killed:
		return fmt.Errorf("vigil did not stop within 30s")
	case err != nil:
		return fmt.Errorf("vigil: %w:\n%s", err, v.log.String())
	}
	return nil
}

func (v *vigilAgent) pids() []int { return []int{v.cmd.Process.Pid} }

// truthRules maps the ground-truth rules of truth.yaml to the kinds the
// workload counts.
var truthRules = map[string]string{
	"bench truth exec":    "exec",
	"bench truth open":    "open",
	"bench truth connect": "connect",
}

func (v *vigilAgent) snapshot() (counters, error) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + v.addr + "/metrics")
	if err != nil {
		return counters{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return counters{}, fmt.Errorf("metrics: %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return counters{}, err
	}
	samples, err := parsePromText(string(body))
	if err != nil {
		return counters{}, fmt.Errorf("metrics: %w", err)
	}
	c := counters{
		Events:        samples.value("vigil_events_received_total", nil),
		KernelDrops:   samples.value("vigil_kernel_drops_total", nil),
		PipelineDrops: samples.value("vigil_pipeline_drops_total", nil),
		AlertDrops:    samples.value("vigil_alerts_total", map[string]string{"outcome": "dropped"}),
	}
	// Only runs that load truth.yaml count the workload's own events.
	for rule, kind := range truthRules {
		if n, ok := samples.sum("vigil_rule_matches_total", map[string]string{"rule": rule}); ok {
			if c.Matches == nil {
				c.Matches = map[string]float64{}
			}
			c.Matches[kind] = n
		}
	}
	return c, nil
}

// drain gives the agent 250 ms (a dozen ring-buffer polls) to take in what
// the workload left queued; with the ground-truth rules loaded it waits
// until they have seen every event the workload made, for at most 3 s.
// What is still missing then counts as lost.
func (v *vigilAgent) drain(truth map[string]int, before counters) (counters, error) {
	deadline := time.Now().Add(3 * time.Second)
	time.Sleep(250 * time.Millisecond)
	for {
		c, err := v.snapshot()
		if err != nil || c.Matches == nil || time.Now().After(deadline) {
			return c, err
		}
		complete := true
		for kind, n := range truth {
			if n > 0 && c.Matches[kind]-before.Matches[kind] < float64(n) {
				complete = false
			}
		}
		if complete {
			return c, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}
