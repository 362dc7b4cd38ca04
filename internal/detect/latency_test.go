package detect

import (
	"testing"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/ktime"
)

// TestLatencyFromKernelClock observes an alert for an event stamped two
// seconds ago on CLOCK_MONOTONIC, the clock the kernel stamps events
// with: it lands in the 2.5 s bucket or above, never below 2 s (less the
// microseconds of reading the two clocks at start).
func TestLatencyFromKernelClock(t *testing.T) {
	l := NewLatency()
	l.Observe(ktime.Now() - 2e9)
	s := l.Snapshot()
	if s.Count != 1 || s.Sum < 1.999 {
		t.Fatalf("count %d sum %g", s.Count, s.Sum)
	}
	if s.Buckets[1] != 0 || s.Buckets[10] != 1 {
		t.Errorf("buckets %v", s.Buckets)
	}
	// An event stamped after the reading (clocks read on two CPUs) counts
	// as zero latency, in the first bucket.
	l.Observe(ktime.Now() + 1e9)
	if s := l.Snapshot(); s.Count != 2 || s.Buckets[LatencyBounds[0]] != 1 {
		t.Errorf("future stamp: %+v", s)
	}
	var none *Latency
	none.Observe(1) // a detector without a histogram
}

// TestDetectorObservesLatency: the detector observes one latency per
// alert it hands on, none for events that match nothing.
func TestDetectorObservesLatency(t *testing.T) {
	rs := loadText(t, rule("shadow", "evt.type = openat and fd.name = /etc/shadow"))
	l := NewLatency()
	d := New(Config{Program: rs.Program, Shards: 1, Latency: l, Emit: func(*alert.Alert) bool { return true }})
	for _, p := range []string{"/etc/shadow", "/etc/hosts", "/etc/shadow"} {
		ev := openEvent(5, p)
		ev.Timestamp = ktime.Now()
		d.Handle(0, ev)
		ev.Release()
	}
	if s := l.Snapshot(); s.Count != 2 {
		t.Errorf("%d observations for 2 alerts", s.Count)
	}
}

func BenchmarkLatencyObserve(b *testing.B) {
	l := NewLatency()
	now := ktime.Now()
	b.ReportAllocs()
	for b.Loop() {
		l.Observe(now)
	}
}
