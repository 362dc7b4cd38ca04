package outputs

import (
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
)

// collector records what a Limiter passes on.
type collector struct {
	mu  sync.Mutex
	got []*alert.Alert
}

func (c *collector) emit(a *alert.Alert) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, a)
	return true
}

// TestRateLimitFlood: 10,000 alerts of one rule at one instant pass
// exactly Burst alerts, and the summary reports exactly the rest.
func TestRateLimitFlood(t *testing.T) {
	clock := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	var c collector
	l := NewLimiter(LimitConfig{Rate: 10, Burst: 25, Window: 60 * time.Second}, c.emit, func() time.Time { return clock })
	var wg sync.WaitGroup
	for w := range 4 { // the detector's shards emit concurrently
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2500 {
				l.Emit(testAlert(w*2500 + i))
			}
		}()
	}
	wg.Wait()
	l.Stop()
	if len(c.got) != 26 {
		t.Fatalf("%d alerts passed, want 25 and a summary", len(c.got))
	}
	for _, a := range c.got[:25] {
		if a.Rule != "Test rule" {
			t.Errorf("passed %+v", a)
		}
	}
	s := c.got[25]
	if s.Rule != SuppressedRule || s.Output != "rule Test rule: 9975 alerts suppressed in the last 60s" ||
		s.OutputFields["suppressed.count"] != uint64(9975) || s.OutputFields["suppressed.rule"] != "Test rule" ||
		s.Priority != "Warning" || s.Hostname != "node-1" || !s.Time.Equal(clock) {
		t.Errorf("summary %+v", s)
	}
	if l.Suppressed() != 9975 {
		t.Errorf("suppressed %d", l.Suppressed())
	}
}

// TestRateLimitRefillAndKeys: tokens come back at Rate; other rules and,
// with PerContainer, other containers have their own buckets; a quiet
// window emits no summary.
func TestRateLimitRefillAndKeys(t *testing.T) {
	clock := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	var c collector
	l := NewLimiter(LimitConfig{Rate: 2, Burst: 1, PerContainer: true, Window: time.Second}, c.emit, func() time.Time { return clock })
	other := testAlert(1)
	other.Context.Identity.ContainerID = "other"
	rule2 := testAlert(2)
	rule2.Rule = "Rule 2"
	for _, a := range []*alert.Alert{testAlert(0), testAlert(0), other, rule2} {
		l.Emit(a)
	}
	clock = clock.Add(500 * time.Millisecond) // one token back
	l.Emit(testAlert(3))
	l.Emit(testAlert(4))
	l.Flush()
	var outs []string
	for _, a := range c.got {
		outs = append(outs, a.Output)
	}
	want := []string{"alert 0", "alert 1", "alert 2", "alert 3",
		"rule Test rule (container c0ffee): 2 alerts suppressed in the last 1s"}
	if len(outs) != len(want) {
		t.Fatalf("got %q", outs)
	}
	for i := range want {
		if outs[i] != want[i] {
			t.Errorf("%d: %q, want %q", i, outs[i], want[i])
		}
	}
	clock = clock.Add(time.Minute)
	l.Flush()
	if len(c.got) != len(want) {
		t.Errorf("quiet window emitted %v", c.got[len(want):])
	}
}

// TestRateLimitPeriodicSummary: Start emits summaries on its own.
func TestRateLimitPeriodicSummary(t *testing.T) {
	var c collector
	l := NewLimiter(LimitConfig{Burst: 1, Window: 10 * time.Millisecond}, c.emit, nil)
	l.Start()
	defer l.Stop()
	l.Emit(testAlert(0))
	l.Emit(testAlert(1))
	waitFor(t, "a summary", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.got) == 2
	})
}
