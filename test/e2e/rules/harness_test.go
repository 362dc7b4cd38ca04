// Package rules_test proves Vigil's default rules on real attacks and real
// work: one agent runs in the test binary with the embedded stable and
// experimental rules, each attack is performed for real (on the host, or
// in a container of the local busybox image) by a child process, and the
// test asserts that its rule fired exactly once with the exact rule name,
// priority, container and process.
package rules_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/agent"
	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/alert/falcocheck"
	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/container/dockerapi"
	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/ktime"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/sensor"
	"github.com/vigilsec/vigil/internal/testutil"
)

func TestMain(m *testing.M) {
	if action := os.Getenv(helperEnv); action != "" {
		os.Exit(runHelper(action))
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// cleanups run once the whole suite is done: the agent, the shared
// container and the network namespace outlive single tests.
var (
	cleanupMu sync.Mutex
	cleanups  []func()
)

func atExit(f func()) {
	cleanupMu.Lock()
	cleanups = append(cleanups, f)
	cleanupMu.Unlock()
}

func cleanup() {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
}

// collector keeps every alert, with the ancestry of its process as the
// table knew it when the alert was raised.
type collector struct {
	table  *proc.Table
	mu     sync.Mutex
	alerts []collected
	// notFalco are the alerts whose JSON falcosidekick would refuse or
	// that is not in Falco's form, until a test reports them.
	notFalco []string
}

// reportNotFalco fails t for every alert not in Falco's form since the
// last report.
func (c *collector) reportNotFalco(t *testing.T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, msg := range c.notFalco {
		t.Error(msg)
	}
	c.notFalco = nil
}

type collected struct {
	*alert.Alert
	ancestors []uint32 // pids, parent first
}

func (c *collector) emit(a *alert.Alert) bool {
	if err := falcocheck.CheckFalco(a.AppendJSON(nil, alert.JSONOptions{})); err != nil {
		c.mu.Lock()
		c.notFalco = append(c.notFalco, fmt.Sprintf("alert %q: %v", a.Rule, err))
		c.mu.Unlock()
	}
	var anc []uint32
	c.table.Ancestors(a.Context.Process.PID, 64, func(p proc.Process) bool {
		anc = append(anc, p.PID)
		return true
	})
	c.mu.Lock()
	c.alerts = append(c.alerts, collected{a, anc})
	c.mu.Unlock()
	return true
}

// matching returns the alerts of rule whose output contains marker.
func (c *collector) matching(rule, marker string) []collected {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []collected
	for _, a := range c.alerts {
		if a.Rule == rule && strings.Contains(a.Output, marker) {
			out = append(out, a)
		}
	}
	return out
}

// since returns the alerts raised after the first n.
func (c *collector) since(n int) []collected {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]collected(nil), c.alerts[n:]...)
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.alerts)
}

var suite struct {
	once   sync.Once
	err    error
	col    *collector
	rs     *detect.RuleSet
	stable map[string]bool // the rules of the stable set, by name
	agent  *agent.Agent
}

// lost counts the events the agent dropped so far, in the kernel or in
// its queues.
func lost() uint64 {
	st := suite.agent.Stats()
	return st.Sensor.TotalKernelDrops() + st.Pipeline.Dropped
}

// startAgent starts the one agent of the test binary, with the stable and
// experimental default rules, the first time a test asks.
func startAgent(t *testing.T) *collector {
	t.Helper()
	testutil.RequireBPF(t)
	suite.once.Do(func() {
		stable, err := detect.Load(detect.LoadOptions{})
		if err != nil {
			suite.err = err
			return
		}
		suite.stable = map[string]bool{}
		for _, r := range stable.Program.Rules() {
			suite.stable[r.Name] = true
		}
		rs, err := detect.Load(detect.LoadOptions{Experimental: true, Strict: true})
		if err != nil {
			suite.err = err
			return
		}
		if len(rs.Diagnostics) > 0 {
			suite.err = fmt.Errorf("default rules have diagnostics:\n%s", rs.Diagnostics)
			return
		}
		suite.rs = rs
		table := proc.New()
		containers := container.New(container.Config{Sources: dockerapi.Detect()})
		if err := containers.Start(context.Background()); err != nil {
			suite.err = err
			return
		}
		atExit(containers.Close)
		suite.col = &collector{table: table}
		env := &fields.Env{Table: table, Clock: ktime.NewClock(), Users: fields.NewUsers("/etc/passwd", "/etc/group"),
			Hostname: "e2e", Containers: containers}
		det := detect.New(detect.Config{Program: rs.Program, Env: env, Emit: suite.col.emit})
		// A large ring buffer: the suite runs beside builds and other
		// kernel tests, and a dropped event is a missed alert.
		a, err := agent.Start(agent.Config{Sensor: sensor.Config{Syscalls: rs.Syscalls, RingBufferBytes: 64 << 20},
			TrackFDs: rs.NeedsFDTable, Table: table, Handler: det.Handle})
		if err != nil {
			suite.err = err
			return
		}
		suite.agent = a
		atExit(func() { a.Stop() })
	})
	if suite.err != nil {
		t.Fatal(suite.err)
	}
	t.Cleanup(func() { suite.col.reportNotFalco(t) })
	return suite.col
}

// newMarker returns a token no other process on the machine uses.
func newMarker() string { return fmt.Sprintf("vg%08d", rand.IntN(100000000)) }

// settle is how long a test waits after its alert for duplicates: alerts
// of one process come from one pipeline shard in order, so anything the
// same action triggers arrives well within it.
const settle = 1500 * time.Millisecond

// waitFor waits up to 20 seconds for an alert of rule whose output
// contains marker.
func waitFor(col *collector, rule, marker string) bool {
	for deadline := time.Now().Add(20 * time.Second); len(col.matching(rule, marker)) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// exactlyOne waits for duplicates, then returns the one alert of rule
// whose output contains marker.
func exactlyOne(t *testing.T, col *collector, rule, marker string) collected {
	t.Helper()
	time.Sleep(settle)
	got := col.matching(rule, marker)
	if len(got) != 1 {
		for _, a := range got {
			t.Logf("%s: %s", a.Rule, a.Output)
		}
		t.Fatalf("%q fired %d times for %q", rule, len(got), marker)
	}
	return got[0]
}

// mustRun runs a command and fails the test if it cannot start; its exit
// status is the behaviour's business (many attacks fail here on purpose).
func mustRun(t *testing.T, cmd *exec.Cmd) *exec.Cmd {
	t.Helper()
	out, err := cmd.CombinedOutput()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	text := strings.TrimSpace(string(out))
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	t.Logf("%v: %s", cmd.Args, text)
	return cmd
}
