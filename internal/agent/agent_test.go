package agent

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/sensor"
	"github.com/vigilsec/vigil/internal/testutil"
)

// procParent reads the parent pid of pid from /proc: the ground truth the
// table's ancestry is checked against.
func procParent(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// realChain lists pid's ancestors from /proc, nearest first, up to pid 1.
func realChain(t *testing.T, pid int) []uint32 {
	var chain []uint32
	for p := procParent(t, pid); p > 0; p = procParent(t, p) {
		chain = append(chain, uint32(p))
		if p == 1 {
			break
		}
	}
	return chain
}

// capture is a handler that snapshots what the test asks for while the
// process table still holds the event's process.
type capture struct {
	mu    sync.Mutex
	table *proc.Table
	want  func(*event.Event) bool
	got   []snapshot
}

type snapshot struct {
	ev        *event.Event
	process   proc.Process
	found     bool
	ancestors []proc.Process
}

func (c *capture) handle(_ int, ev *event.Event) {
	if c.want == nil || !c.want(ev) {
		return
	}
	p, ok := c.table.Get(ev.PID)
	s := snapshot{ev: ev.Clone(), process: p, found: ok, ancestors: c.table.AppendAncestors(nil, ev.PID, 0)}
	c.mu.Lock()
	c.got = append(c.got, s)
	c.mu.Unlock()
}

func (c *capture) wait(t *testing.T, n int) []snapshot {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		got := append([]snapshot(nil), c.got...)
		c.mu.Unlock()
		if len(got) >= n {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %d events", n)
	return nil
}

// startAgent runs an agent with only the process-lifecycle hooks (plus
// failed-exec capture): what these tests check, at a volume that a machine
// running other kernel tests in parallel still keeps up with.
func startAgent(t *testing.T, c *capture) *Agent {
	t.Helper()
	testutil.RequireBPF(t)
	c.table = proc.New()
	a, err := Start(Config{Sensor: sensor.Config{Syscalls: []string{"execve", "execveat"}}, Table: c.table, Handler: c.handle})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Stop(); err != nil {
			t.Error(err)
		}
	})
	return a
}

func TestExecAncestryToInit(t *testing.T) {
	bin := testutil.CopyExecutable(t, "/bin/true", "vigil-ancestry")
	c := &capture{want: func(ev *event.Event) bool {
		return ev.Kind == event.KindExec && ev.Exec.Filename == bin
	}}
	startAgent(t, c)
	args := make([]string, 300)
	for i := range args {
		args[i] = fmt.Sprintf("a%d", i)
	}
	// A shell between us and the program makes the chain one step longer
	// than our own and puts a process the agent saw fork in it.
	sh := exec.Command("/bin/sh", append([]string{"-c", `"$0" "$@"; exit 0`, bin}, args...)...)
	if err := sh.Run(); err != nil {
		t.Fatal(err)
	}
	s := c.wait(t, 1)[0]

	if got := s.ev.Exec.Argv(); len(got) != 301 || got[300] != "a299" || s.ev.Exec.Exe != bin {
		t.Fatalf("exec argv has %d elements, exe %q", len(got), s.ev.Exec.Exe)
	}
	if !s.found || s.process.Exe != bin || len(s.process.Argv()) != 301 {
		t.Fatalf("table entry: found=%v exe=%q args=%d", s.found, s.process.Exe, len(s.process.Argv()))
	}
	// dash execs the last command of -c in place, so the program may be
	// the shell's pid itself or its child.
	want := realChain(t, os.Getpid())
	want = append([]uint32{uint32(os.Getpid())}, want...)
	if s.ev.PID != uint32(sh.Process.Pid) {
		want = append([]uint32{uint32(sh.Process.Pid)}, want...)
	}
	var got []uint32
	for _, a := range s.ancestors {
		got = append(got, a.PID)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ancestors %v, want %v", got, want)
	}
	if last := s.ancestors[len(s.ancestors)-1]; last.PID != 1 || last.Comm == "" {
		t.Fatalf("chain ends at %+v, want pid 1 with a name", last)
	}
	if s.ancestors[0].PPID != uint32(os.Getpid()) && s.ancestors[0].PID != uint32(os.Getpid()) {
		t.Fatalf("nearest ancestor %+v", s.ancestors[0])
	}
}

func TestProcessOlderThanAgent(t *testing.T) {
	dir := t.TempDir()
	trigger := filepath.Join(dir, "go")
	// The waiter starts before the agent and only then runs cat.
	waiter := exec.Command("/bin/sh", "-c", `while [ ! -e "$0" ]; do sleep 0.02; done; /bin/cat "$0"; exit 0`, trigger, "old-marker-arg")
	if err := waiter.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := waiter.Wait(); err != nil {
			t.Error(err)
		}
	}()
	time.Sleep(100 * time.Millisecond)
	c := &capture{want: func(ev *event.Event) bool {
		return ev.Kind == event.KindExec && ev.Exec.Filename == "/bin/cat" && ev.PPID == uint32(waiter.Process.Pid)
	}}
	startAgent(t, c)
	if err := os.WriteFile(trigger, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s := c.wait(t, 1)[0]
	if len(s.ancestors) == 0 {
		t.Fatal("no ancestors for cat")
	}
	old := s.ancestors[0]
	if old.PID != uint32(waiter.Process.Pid) || !old.Seeded || old.Comm != "sh" || old.Exe != "/usr/bin/dash" && old.Exe != "/bin/dash" && old.Exe != "/usr/bin/bash" {
		t.Fatalf("pre-existing parent %+v exe %q", old, old.Exe)
	}
	if argv := old.Argv(); len(argv) != 5 || argv[4] != "old-marker-arg" {
		t.Fatalf("pre-existing parent args %q", argv)
	}
	if s.ancestors[1].PID != uint32(os.Getpid()) || s.ancestors[len(s.ancestors)-1].PID != 1 {
		t.Fatalf("ancestry of a pre-existing process: %+v", s.ancestors)
	}
}

func TestChurnEveryExecSeenTableBounded(t *testing.T) {
	const cycles = 2000
	bin := testutil.CopyExecutable(t, "/bin/true", "vigil-churn")
	var execs, exits atomic.Int64
	var pids sync.Map
	c := &capture{}
	c.want = func(ev *event.Event) bool {
		switch {
		case ev.Kind == event.KindExec && ev.Exec.Filename == bin:
			execs.Add(1)
			pids.Store(ev.PID, true)
		case ev.Kind == event.KindExit:
			if _, ok := pids.Load(ev.PID); ok {
				exits.Add(1)
			}
		}
		return false
	}
	a := startAgent(t, c)
	time.Sleep(200 * time.Millisecond)
	baseline := a.Table.Len()
	for range cycles {
		if err := exec.Command(bin).Run(); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for (execs.Load() < cycles || exits.Load() < cycles) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	st := a.Stats()
	if execs.Load() != cycles || exits.Load() != cycles {
		t.Errorf("saw %d execs and %d exits of %d cycles", execs.Load(), exits.Load(), cycles)
	}
	if d := st.Sensor.TotalKernelDrops(); d != 0 || st.Pipeline.Dropped != 0 {
		t.Errorf("drops: kernel %d, pipeline %d", d, st.Pipeline.Dropped)
	}
	// Other processes on the machine come and go; allow a little slack,
	// nothing near the 2,000 entries a leak would leave.
	if after := a.Table.Len(); after > baseline+20 {
		t.Errorf("process table grew from %d to %d entries over %d cycles", baseline, after, cycles)
	}
}
