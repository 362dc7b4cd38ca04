package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/alert/falcocheck"
	"github.com/vigilsec/vigil/internal/testutil"
)

// liveAgent is a `vigil run` process with its alerts parsed from stdout
// and its log lines kept from stderr.
type liveAgent struct {
	t       *testing.T
	cmd     *exec.Cmd
	alerts  chan map[string]any
	metrics string // base URL of /metrics, when --metrics-addr was given

	mu   sync.Mutex
	logs []string
	// notFalco are the alert lines falcosidekick would refuse or that are
	// not in Falco's form; the test fails on them at its end.
	notFalco []string
	logged   chan struct{} // closed and replaced on each new line
}

// startAgent runs the vigil binary with args and env (added to the
// test's environment) and waits until it logs that it runs.
func startAgent(t *testing.T, env []string, args ...string) *liveAgent {
	t.Helper()
	bin := vigilBinary(t)
	cmd := exec.Command(bin, append([]string{"run"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &liveAgent{t: t, cmd: cmd, alerts: make(chan map[string]any, 1<<16), logged: make(chan struct{})}
	t.Cleanup(func() {
		testutil.KillAndWait(cmd)
		a.mu.Lock()
		for _, msg := range a.notFalco {
			t.Errorf("alert line: %s", msg)
		}
		a.mu.Unlock()
		if t.Failed() {
			t.Logf("agent log:\n%s", strings.Join(a.lines(), "\n"))
		}
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				if err := falcocheck.CheckFalco(sc.Bytes()); err != nil {
					a.mu.Lock()
					a.notFalco = append(a.notFalco, fmt.Sprintf("%v: %s", err, sc.Bytes()))
					a.mu.Unlock()
				}
				a.alerts <- m
			}
		}
		close(a.alerts)
	}()
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			a.mu.Lock()
			a.logs = append(a.logs, sc.Text())
			close(a.logged)
			a.logged = make(chan struct{})
			a.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, stderr) // only keeps the agent from blocking on a full pipe
	}()
	line := a.waitLog(0, `msg="running `)
	if i := a.findLog(0, `msg="metrics on `); i >= 0 {
		addr := regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(a.lines()[i])
		a.metrics = "http://" + addr[1]
	}
	_ = line
	return a
}

func (a *liveAgent) lines() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.logs...)
}

// findLog returns the index of the first log line at or after from that
// contains all of subs, or -1.
func (a *liveAgent) findLog(from int, subs ...string) int {
	lines := a.lines()
	for i := from; i < len(lines); i++ {
		ok := true
		for _, s := range subs {
			ok = ok && strings.Contains(lines[i], s)
		}
		if ok {
			return i
		}
	}
	return -1
}

// waitLog waits for a log line at or after from containing all of subs
// and returns its index.
func (a *liveAgent) waitLog(from int, subs ...string) int {
	a.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		a.mu.Lock()
		ch := a.logged
		a.mu.Unlock()
		if i := a.findLog(from, subs...); i >= 0 {
			return i
		}
		select {
		case <-ch:
		case <-deadline:
			a.t.Fatalf("no log line with %q", subs)
		}
	}
}

// logCount is how many lines were logged so far: a cursor for waitLog.
func (a *liveAgent) logCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.logs)
}

// nextAlert returns the next alert, failing the test after a generous
// wait.
func (a *liveAgent) nextAlert() map[string]any {
	a.t.Helper()
	select {
	case m, ok := <-a.alerts:
		if !ok {
			a.t.Fatal("vigil run closed stdout")
		}
		return m
	case <-time.After(30 * time.Second):
		a.t.Fatal("no alert")
	}
	return nil
}

// signal sends sig to the agent.
func (a *liveAgent) signal(sig syscall.Signal) {
	if err := a.cmd.Process.Signal(sig); err != nil {
		a.t.Fatal(err)
	}
}

// metric scrapes /metrics and returns the value of the sample named
// exactly series (name and labels as exposed), or -1 when absent.
func (a *liveAgent) metric(series string) float64 {
	a.t.Helper()
	body := get(a.t, a.metrics+"/metrics")
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				a.t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	return -1
}

// alertPath returns fd.name of an alert, for rules that print it.
func alertPath(m map[string]any) string {
	f, _ := m["output_fields"].(map[string]any)
	s, _ := f["fd.name"].(string)
	return s
}

// write writes a test's input file; the test means nothing without it.
func write(t testing.TB, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// mkdir makes a directory the test needs.
func mkdir(t testing.TB, path string) {
	t.Helper()
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
}
