package detect

import (
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil/internal/ktime"
)

// LatencyBounds are the upper bounds, in seconds, of the pipeline latency
// histogram's buckets: from the sensor's batching delay (tens of
// milliseconds) to a pipeline that has fallen seconds behind.
var LatencyBounds = [...]float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

var latencyBoundsNs = func() []int64 {
	out := make([]int64, len(LatencyBounds))
	for i, b := range LatencyBounds {
		out[i] = int64(b * 1e9)
	}
	return out
}()

// Latency is a histogram of the time from an event's kernel timestamp to
// its alert being handed to the outputs. Observe takes no lock and does
// not allocate; a nil *Latency ignores observations.
type Latency struct {
	// counts[i] is observations in bucket i (not cumulative); the last
	// bucket is beyond every bound.
	counts [len(LatencyBounds) + 1]atomic.Uint64
	sumNs  atomic.Uint64
	// The kernel stamps events with CLOCK_MONOTONIC; so does Go's
	// monotonic clock, so one reading at creation lets time.Since give the
	// current CLOCK_MONOTONIC without a system call per alert.
	start     time.Time
	startMono int64
}

// NewLatency returns an empty histogram.
func NewLatency() *Latency {
	// The pair is read as close together as possible: start is the
	// midpoint of two readings around the system call.
	before := time.Now()
	mono := ktime.Now()
	after := time.Now()
	return &Latency{start: before.Add(after.Sub(before) / 2), startMono: int64(mono)}
}

// Observe records one alert for an event stamped kernelNs.
func (l *Latency) Observe(kernelNs uint64) {
	if l == nil {
		return
	}
	d := l.startMono + int64(time.Since(l.start)) - int64(kernelNs)
	d = max(d, 0) // a clock read a hair early, not a negative latency
	i := 0
	for i < len(latencyBoundsNs) && d > latencyBoundsNs[i] {
		i++
	}
	l.counts[i].Add(1)
	l.sumNs.Add(uint64(d))
}

// LatencySnapshot is a histogram's state, in Prometheus's terms.
type LatencySnapshot struct {
	Count uint64
	// Sum is the total latency in seconds.
	Sum float64
	// Buckets maps each bound of LatencyBounds to the observations at or
	// below it (cumulative).
	Buckets map[float64]uint64
}

// Snapshot reads the histogram. Count is the sum of the buckets, so the
// two always agree even while alerts are observed.
func (l *Latency) Snapshot() LatencySnapshot {
	s := LatencySnapshot{Buckets: make(map[float64]uint64, len(LatencyBounds))}
	for i, b := range LatencyBounds {
		s.Count += l.counts[i].Load()
		s.Buckets[b] = s.Count
	}
	s.Count += l.counts[len(LatencyBounds)].Load()
	s.Sum = float64(l.sumNs.Load()) / 1e9
	return s
}
