package dropalert

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
)

// TestAlertOncePerWindow drives the monitor with counters the test sets,
// one Check per interval: a window of 3 intervals, a ratio of 10 %.
func TestAlertOncePerWindow(t *testing.T) {
	var c Counters
	var got []*alert.Alert
	m := New(Config{Ratio: 0.1, Window: 3 * time.Second, Interval: time.Second, Hostname: "h",
		Counters: func() Counters { return c }, Emit: func(a *alert.Alert) bool { got = append(got, a); return true }})
	step := func(received, dropped uint64) bool {
		c.Received += received
		c.Dropped += dropped
		return m.Check()
	}
	// 5 % lost: below the ratio.
	if step(95, 5) || len(got) != 0 {
		t.Fatal("alerted below the ratio")
	}
	// 100 more events, 20 lost: over the two intervals 25 of 200, 12.5 %.
	if !step(80, 20) {
		t.Fatal("no alert at 12.5 %")
	}
	a := got[0]
	if a.Rule != Rule || a.Priority != "Warning" || a.Source != alert.InternalSource || a.Time.Location() != time.UTC || a.Hostname != "h" ||
		a.Output != "kernel dropped 25 of 200 events (12.50%) in the last 2s; detections may be missed (raise ring_buffer_size, or load fewer rules)" ||
		fmt.Sprint(a.OutputFields) != "map[vigil.drop_ratio:0.125 vigil.events_received:175 vigil.kernel_drops:25 vigil.window:2s]" {
		t.Errorf("alert %+v", a)
	}
	// Heavy drops go on: no second alert until a window has passed.
	for i := range 2 {
		if step(10, 90) {
			t.Fatalf("second alert %d intervals after the first", i+1)
		}
	}
	if !step(10, 90) {
		t.Fatal("no alert a window after the first")
	}
	// The window slides: its span is three intervals now.
	if a := got[1]; a.OutputFields["vigil.kernel_drops"] != uint64(270) || a.OutputFields["vigil.window"] != "3s" {
		t.Errorf("second alert fields %v", a.OutputFields)
	}
	// Drops stop: once the bad intervals leave the window, quiet.
	for range 3 {
		step(1000, 0)
	}
	for range 5 {
		if step(1000, 1) {
			t.Fatal("alert for 0.1 % drops")
		}
	}
	if st := m.Stats(); st != (Stats{Checks: 13, Alerts: 2}) || len(got) != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestNoEventsNoAlert: an idle sensor (nothing received, nothing lost)
// never alerts, and counters that go backwards (a restarted sensor) are
// not taken for drops.
func TestNoEventsNoAlert(t *testing.T) {
	c := Counters{Received: 100, Dropped: 50}
	m := New(Config{Ratio: 0.01, Window: time.Second, Interval: time.Second,
		Counters: func() Counters { return c }, Emit: func(*alert.Alert) bool { t.Error("alert"); return true }})
	m.Check()
	c = Counters{}
	m.Check()
}
