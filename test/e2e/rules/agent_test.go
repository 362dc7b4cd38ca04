package rules_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// agent is one `vigil run` process: its alerts as read from stdout, its
// log lines from stderr, and what it said when it started.
type agent struct {
	cmd *exec.Cmd

	mu     sync.Mutex
	alerts []*wireAlert
	bad    []string // stdout lines that are not an alert of the documented shape
	logs   []string
	wake   chan struct{} // closed and replaced on each line read
	done   chan struct{} // closed once the process has exited and its pipes are drained
	err    error         // its exit status, once done

	// Running is what the start-up line ("running N rules") reported.
	running runningLine
}

// runningLine is the agent's start-up log line, as JSON.
type runningLine struct {
	Msg            string `json:"msg"`
	Syscalls       string `json:"syscalls"`
	FDTables       bool   `json:"fd_tables"`
	Shards         int    `json:"shards"`
	RingBufferSize int    `json:"ring_buffer_size"`
}

// startTimeout bounds the agent's start: loading the eBPF programs and
// compiling the rules take a few seconds on this machine.
const startTimeout = 90 * time.Second

// startAgent runs `vigil run` as users run it: the embedded rules (plus
// the experimental ones when asked, as --experimental does) and the
// default configuration. The one configuration key set is log_format,
// so that the test can read the start-up line as JSON; naming the file
// also keeps a stray /etc/vigil/vigil.yaml out, and VIGIL_* variables
// are not passed on. --stats only adds counters on exit. The agent is
// started in a mount namespace of its own whose Docker socket is the
// suite's Engine API proxy (see dockerProxy): the same engine, except
// for the containers a test asks to be reported privileged. It returns
// once the agent logged that it runs, and stops it when t ends.
func startAgent(t *testing.T, experimental bool) *agent {
	t.Helper()
	requireBuilt(t)
	proxy := startDockerProxy(t)
	// A file of its own: the agent watches it for changes.
	f, err := os.CreateTemp(workDir(t), "vigil-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("log_format: json\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := f.Name()
	args := []string{"run", "--config", cfg, "--stats"}
	if experimental {
		args = append(args, "--experimental")
	}
	// unshare and sh exec in turn, so the agent keeps the pid started here.
	cmd := exec.Command("unshare", append([]string{"--mount", "--propagation", "slave", "--",
		"/bin/sh", "-c", `mount --bind "$0" /run/docker.sock && exec "$@"`, proxy.socket, built.vigil}, args...)...)
	cmd.Env = agentEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	a := &agent{cmd: cmd, wake: make(chan struct{}), done: make(chan struct{})}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var readers sync.WaitGroup
	readers.Add(2)
	go func() { defer readers.Done(); a.readAlerts(stdout) }()
	go func() { defer readers.Done(); a.readLogs(stderr) }()
	go func() {
		readers.Wait()
		err := cmd.Wait()
		a.mu.Lock()
		a.err = err
		a.mu.Unlock()
		close(a.done)
	}()
	t.Cleanup(func() { a.stop(t) })
	line, ok := a.waitLog(startTimeout, func(l string) bool {
		return strings.Contains(l, `"msg":"running `) && strings.Contains(l, ` rules"`)
	})
	if !ok {
		t.Fatalf("vigil run did not log that it runs within %s:\n%s", startTimeout, a.logTail(50))
	}
	if err := json.Unmarshal([]byte(line), &a.running); err != nil {
		t.Fatalf("start-up line %q: %v", line, err)
	}
	t.Logf("vigil run%s started in %s: %s, ring buffer %d bytes, fd tables %v", map[bool]string{true: " --experimental"}[experimental],
		time.Since(start).Round(time.Millisecond), a.running.Msg, a.running.RingBufferSize, a.running.FDTables)
	return a
}

// agentEnv is the test's environment less the variables that would
// configure the agent or make it act as the suite's helper.
func agentEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "VIGIL_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func (a *agent) readAlerts(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		al, err := decodeAlert(sc.Bytes())
		a.mu.Lock()
		if err != nil {
			a.bad = append(a.bad, fmt.Sprintf("%s: %v", sc.Text(), err))
		} else {
			a.alerts = append(a.alerts, al)
		}
		a.notifyLocked()
		a.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r) // drained only, so that the agent never blocks on a full pipe
}

func (a *agent) readLogs(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		a.mu.Lock()
		a.logs = append(a.logs, sc.Text())
		a.notifyLocked()
		a.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r) // drained only, so that the agent never blocks on a full pipe
}

func (a *agent) notifyLocked() {
	close(a.wake)
	a.wake = make(chan struct{})
}

// waitUntil calls check, under the lock, each time a line arrives, until
// it returns true, the agent exits or d passes.
func (a *agent) waitUntil(d time.Duration, check func() bool) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		a.mu.Lock()
		ok, wake := check(), a.wake
		a.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-wake:
		case <-a.done:
			a.mu.Lock()
			ok := check()
			a.mu.Unlock()
			return ok
		case <-deadline.C:
			return false
		}
	}
}

// waitLog waits for a log line for which match is true and returns it.
func (a *agent) waitLog(d time.Duration, match func(string) bool) (string, bool) {
	var found string
	ok := a.waitUntil(d, func() bool {
		for _, l := range a.logs {
			if match(l) {
				found = l
				return true
			}
		}
		return false
	})
	return found, ok
}

// matching returns the alerts of rule whose output contains match and
// narrow.
func (a *agent) matching(rule, match, narrow string) []*wireAlert {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.matchingLocked(rule, match, narrow)
}

func (a *agent) matchingLocked(rule, match, narrow string) []*wireAlert {
	var out []*wireAlert
	for _, al := range a.alerts {
		if al.Rule == rule && strings.Contains(al.Output, match) && strings.Contains(al.Output, narrow) {
			out = append(out, al)
		}
	}
	return out
}

// alertWait bounds the wait for an attack's alert: the agent raises it
// within milliseconds; the bound only decides when a missing one fails.
const alertWait = 20 * time.Second

// settle is how long a test watches for duplicates after its alert:
// alerts of one process come from one pipeline shard in order, so
// anything the same action triggers arrives well within it.
const settle = 1500 * time.Millisecond

// waitFor waits for an alert of rule whose output contains match and
// narrow (empty: no further condition).
func (a *agent) waitFor(rule, match, narrow string) bool {
	return a.waitUntil(alertWait, func() bool { return len(a.matchingLocked(rule, match, narrow)) > 0 })
}

// exactlyOne watches for duplicates, then returns the one alert of rule
// whose output contains match and narrow.
func (a *agent) exactlyOne(t *testing.T, rule, match, narrow string) *wireAlert {
	t.Helper()
	select {
	case <-time.After(settle):
	case <-a.done:
	}
	got := a.matching(rule, match, narrow)
	if len(got) != 1 {
		for _, al := range got {
			t.Logf("%s: %s", al.Rule, al.Output)
		}
		t.Fatalf("%q fired %d times for %q", rule, len(got), match)
	}
	return got[0]
}

// since returns the alerts after the first n, and how many there are.
func (a *agent) since(n int) ([]*wireAlert, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*wireAlert(nil), a.alerts[n:]...), len(a.alerts)
}

// badLines returns the stdout lines that were not alerts of the
// documented shape.
func (a *agent) badLines() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.bad...)
}

// logTail returns the agent's last n log lines, for failure messages.
func (a *agent) logTail(n int) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	logs := a.logs
	if len(logs) > n {
		logs = logs[len(logs)-n:]
	}
	return strings.Join(logs, "\n")
}

// stopTimeout bounds the agent's shutdown: it drains its pipeline and
// gives its outputs 10 s to deliver.
const stopTimeout = 30 * time.Second

// stop sends SIGTERM, as a service manager does, and waits for the
// agent to exit; it fails the test if the agent had already died, did
// not exit cleanly, or wrote anything but alerts on stdout. It logs the
// counters of --stats, and the agent's log when t failed.
func (a *agent) stop(t *testing.T) {
	select {
	case <-a.done:
		t.Errorf("vigil run exited before the test ended: %v\n%s", a.err, a.logTail(50))
		return
	default:
	}
	// A failed signal means it has exited: a.err and done tell.
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(stopTimeout):
		_ = a.cmd.Process.Kill() // failing already; done is closed once it is reaped
		<-a.done
		t.Errorf("vigil run did not stop within %s of SIGTERM", stopTimeout)
	}
	if a.err != nil {
		t.Errorf("vigil run: %v", a.err)
	}
	for _, l := range a.badLines() {
		t.Errorf("stdout line is not an alert of the documented shape: %s", l)
	}
	if st, err := a.stats(); err != nil {
		t.Errorf("--stats: %v", err)
	} else {
		t.Logf("agent counters: %d events received, %d dropped in the kernel, %d in the pipeline; %d alerts, %d dropped",
			st.Agent.Sensor.Received, st.kernelDrops(), st.Agent.Pipeline.Dropped, st.Detector.Alerts, st.Detector.AlertsDropped)
	}
	if t.Failed() {
		t.Logf("agent log (last lines):\n%s", a.logTail(200))
	}
}

// runStats is the part of --stats the suite reports.
type runStats struct {
	Detector struct {
		Events        uint64 `json:"events"`
		Alerts        uint64 `json:"alerts"`
		AlertsDropped uint64 `json:"alerts_dropped"`
	} `json:"detector"`
	Agent struct {
		Sensor struct {
			Received    uint64
			KernelDrops map[string]uint64
		}
		Pipeline struct {
			Dropped uint64
		}
	} `json:"agent"`
}

func (s *runStats) kernelDrops() uint64 {
	var n uint64
	for _, v := range s.Agent.Sensor.KernelDrops {
		n += v
	}
	return n
}

// stats parses what --stats printed on exit: an indented JSON object
// after the last log line.
func (a *agent) stats() (*runStats, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := len(a.logs) - 1; i >= 0; i-- {
		if a.logs[i] == "{" {
			var st runStats
			if err := json.Unmarshal([]byte(strings.Join(a.logs[i:], "\n")), &st); err != nil {
				return nil, err
			}
			return &st, nil
		}
	}
	return nil, fmt.Errorf("no counters on stderr")
}
