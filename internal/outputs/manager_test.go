package outputs

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/config"
)

func fileConfig(path string) *config.Config {
	c := config.Default()
	c.Outputs.Stdout.Enabled = false
	c.Outputs.File.Enabled = true
	c.Outputs.File.Path = path
	c.Outputs.File.QueueSize = 1 << 16
	return c
}

func countLines(t *testing.T, path string) int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		n++
	}
	return n
}

// TestManagerSwapLosesNothing switches the file output between two files
// while four goroutines emit: every alert is written to exactly one of
// them, and the counters carry over by output name.
func TestManagerSwapLosesNothing(t *testing.T) {
	dir := t.TempDir()
	paths := []string{filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")}
	al, err := NewManager(fileConfig(paths[0]), io.Discard, 10*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	const emitters, each = 4, 5000
	var accepted atomic.Uint64
	var wg sync.WaitGroup
	for g := range emitters {
		wg.Go(func() {
			for i := range each {
				if al.Emit(&alert.Alert{Rule: "r", Output: fmt.Sprintf("%d-%d", g, i), Tags: []string{}}) {
					accepted.Add(1)
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	swaps := 0
	for running := true; running; swaps++ {
		p, err := al.Prepare(fileConfig(paths[(swaps+1)%2]))
		if err != nil || p == nil {
			t.Fatalf("prepare: %v %v", p, err)
		}
		if err := p.Commit(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
			running = false
		default:
		}
	}
	if err := al.Close(); err != nil {
		t.Fatal(err)
	}
	total := countLines(t, paths[0]) + countLines(t, paths[1])
	if accepted.Load() != emitters*each || total != emitters*each {
		t.Errorf("%d accepted, %d written, of %d after %d swaps", accepted.Load(), total, emitters*each, swaps)
	}
	st := al.Stats()
	if len(st) != 1 || st[0].Output != "file" || st[0].Sent != emitters*each || st[0].Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
	if e := al.EmitterStats(); e.Emitted != emitters*each || e.Written != emitters*each {
		t.Errorf("emitter stats %+v", e)
	}
}

// TestManagerRateLimitOnly changes only the rate limit: the dispatcher is
// kept (no reconnect), the old limiter reports what it suppressed, and
// the suppressed count carries over.
func TestManagerRateLimitOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.json")
	c := fileConfig(path)
	c.RateLimit = config.RateLimit{Enabled: true, Rate: 0, Burst: 2, Window: config.Duration(time.Hour)}
	al, err := NewManager(c, io.Discard, 10*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := al.Prepare(c); p != nil || err != nil {
		t.Fatalf("unchanged configuration prepared %v %v", p, err)
	}
	for range 5 {
		al.Emit(&alert.Alert{Rule: "r", Tags: []string{}})
	}
	before := al.cur.Load().disp
	c2 := *c
	c2.RateLimit.Burst = 3
	p, err := al.Prepare(&c2)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	if al.cur.Load().disp != before {
		t.Error("the outputs were rebuilt for a rate limit change")
	}
	for range 5 {
		al.Emit(&alert.Alert{Rule: "r", Tags: []string{}})
	}
	if got := al.Suppressed(); got != 5 {
		t.Errorf("suppressed %d, want 3 + 2", got)
	}
	if err := al.Close(); err != nil {
		t.Error(err)
	}
	// 2 + 3 passed, plus one summary from each limiter.
	if n := countLines(t, path); n != 7 {
		t.Errorf("%d lines written", n)
	}
	if st := al.Stats(); len(st) != 1 || st[0].Sent != 7 {
		t.Errorf("stats %+v", st)
	}
}

// TestManagerPrepareFailureKeepsRunning: outputs that cannot start leave
// the running path as it was.
func TestManagerPrepareFailureKeepsRunning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.json")
	al, err := NewManager(fileConfig(path), io.Discard, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := al.Prepare(fileConfig(filepath.Join(t.TempDir(), "missing-dir", "x.json"))); err == nil {
		t.Fatal("an unwritable file output was prepared")
	}
	al.Emit(&alert.Alert{Rule: "r", Tags: []string{}})
	if err := al.Close(); err != nil {
		t.Error(err)
	}
	if n := countLines(t, path); n != 1 {
		t.Errorf("%d lines", n)
	}
}

// TestManagerMinimumPriority: alerts less severe than the configured
// priority (the agent's own ones: rules below it do not load) are not
// emitted; a reload that changes the priority applies.
func TestManagerMinimumPriority(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.json")
	c := fileConfig(path)
	c.Priority = "warning"
	m, err := NewManager(c, io.Discard, 10*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range []string{"Notice", "Warning", "Critical", "Debug", "Informational"} {
		a := testAlert(i)
		a.Priority = p
		if !m.Emit(a) {
			t.Errorf("%s reported dropped", p)
		}
	}
	d := testAlert(5)
	d.Priority = "Notice"
	m.EmitUnlimited(d)
	c2 := fileConfig(path)
	c2.Priority = "debug"
	p, err := m.Prepare(c2)
	if err != nil || p == nil {
		t.Fatalf("prepare %v %v", p, err)
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	d = testAlert(6)
	d.Priority = "Debug"
	m.Emit(d)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readOutputs(t, path); !reflect.DeepEqual(got, []string{"alert 1", "alert 2", "alert 6"}) {
		t.Errorf("delivered %v", got)
	}
}
