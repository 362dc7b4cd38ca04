package fanguard

import (
	"sync/atomic"
	"time"
)

// Stats is a snapshot of the guard's counters. Every event read is counted
// once under ExecEvents or OpenEvents and answered once, as Allowed or
// Denied (or lost with the group: WriteErrors, Abandoned).
type Stats struct {
	ExecEvents, OpenEvents uint64
	// Allowed and Denied count responses written, whatever decided them.
	Allowed, Denied uint64
	// Protected events came from our own or a Protect'ed thread group and
	// were allowed without asking the Decider.
	Protected uint64
	// CacheHits were answered by the reader from the verdict cache;
	// Decided by a Decider that returned in time.
	CacheHits, Decided uint64
	// FailOpen and FailClosed count events answered by the failure policy
	// (timeout, decider panic, full queue, fstat error): allowed or denied.
	FailOpen, FailClosed uint64
	// Timeouts, QueueDrops and DeciderPanics are the failures by reason.
	// LateDecisions are Decider results that arrived after the event was
	// answered and were discarded.
	Timeouts, QueueDrops, DeciderPanics, LateDecisions uint64
	// ScopePanics count Scope callbacks that panicked (the event then
	// skips the cache).
	ScopePanics uint64
	// WriteErrors are failed response writes (after one retry with allow).
	WriteErrors uint64
	// ClosedAllowed were allowed by Close. Abandoned ones found the group
	// already closed when answered (the kernel allowed them on release).
	ClosedAllowed, Abandoned uint64
	// KernelOverflows count FAN_Q_OVERFLOW records: the kernel's queue was
	// full and it allowed the operations it could not queue.
	KernelOverflows uint64
	// ReadErrors count failed reads other than shutdown (for example
	// EMFILE: the kernel denies the event it could not open a fd for).
	ReadErrors uint64
	// FailureDrops count OnFailure reports lost because its queue was full.
	FailureDrops uint64
	// Ignored count records that were no permission event (no answer needed).
	Ignored uint64
	// Latency is the time from reading an event to writing its response.
	Latency Histogram
}

// LatencyBoundsMicros are the upper bounds of the latency histogram's
// buckets, in microseconds; a last, unbounded bucket follows.
var LatencyBoundsMicros = [...]float64{5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000}

const latencyBuckets = len(LatencyBoundsMicros) + 1

// Histogram is a latency histogram in Prometheus' shape: Cumulative[i]
// counts observations at or below BoundsMicros[i]; Count (the +Inf bucket)
// counts all of them and SumMicros adds them up.
type Histogram struct {
	BoundsMicros []float64
	Cumulative   []uint64
	Count        uint64
	SumMicros    float64
}

// Quantile estimates the q-quantile (0 < q <= 1) by linear interpolation
// inside its bucket; observations past the last bound report that bound.
func (h Histogram) Quantile(q float64) time.Duration {
	if h.Count == 0 || len(h.Cumulative) == 0 {
		return 0
	}
	rank := q * float64(h.Count)
	lower, below := 0.0, uint64(0)
	for i, upper := range h.BoundsMicros {
		c := h.Cumulative[i]
		if float64(c) >= rank {
			in := c - below
			frac := 1.0
			if in > 0 {
				frac = (rank - float64(below)) / float64(in)
			}
			return micros(lower + frac*(upper-lower))
		}
		lower, below = upper, c
	}
	return micros(lower)
}

// P50 is the estimated median latency.
func (h Histogram) P50() time.Duration { return h.Quantile(0.5) }

// P99 is the estimated 99th percentile latency.
func (h Histogram) P99() time.Duration { return h.Quantile(0.99) }

func micros(us float64) time.Duration { return time.Duration(us * float64(time.Microsecond)) }

// counters are the live counters behind Stats.
type counters struct {
	execEvents, openEvents                                             atomic.Uint64
	allowed, denied, protected, cacheHits, decided                     atomic.Uint64
	failOpen, failClosed, timeouts, queueDrops, deciderPanics, late    atomic.Uint64
	scopePanics, writeErrors, closed, abandoned, overflows, readErrors atomic.Uint64
	failureDrops, ignored                                              atomic.Uint64
	latency                                                            [latencyBuckets]atomic.Uint64
	latencySumNanos                                                    atomic.Uint64
}

func (c *counters) observe(d time.Duration) {
	us := float64(d) / float64(time.Microsecond)
	i := 0
	for i < len(LatencyBoundsMicros) && us > LatencyBoundsMicros[i] {
		i++
	}
	c.latency[i].Add(1)
	if d > 0 {
		c.latencySumNanos.Add(uint64(d))
	}
}

func (c *counters) snapshot() Stats {
	s := Stats{
		ExecEvents: c.execEvents.Load(), OpenEvents: c.openEvents.Load(),
		Allowed: c.allowed.Load(), Denied: c.denied.Load(),
		Protected: c.protected.Load(), CacheHits: c.cacheHits.Load(), Decided: c.decided.Load(),
		FailOpen: c.failOpen.Load(), FailClosed: c.failClosed.Load(),
		Timeouts: c.timeouts.Load(), QueueDrops: c.queueDrops.Load(),
		DeciderPanics: c.deciderPanics.Load(), LateDecisions: c.late.Load(),
		ScopePanics: c.scopePanics.Load(), WriteErrors: c.writeErrors.Load(),
		ClosedAllowed: c.closed.Load(), Abandoned: c.abandoned.Load(), KernelOverflows: c.overflows.Load(),
		ReadErrors: c.readErrors.Load(), FailureDrops: c.failureDrops.Load(),
		Ignored: c.ignored.Load(),
	}
	h := Histogram{BoundsMicros: LatencyBoundsMicros[:], Cumulative: make([]uint64, len(LatencyBoundsMicros))}
	var run uint64
	for i := range c.latency {
		run += c.latency[i].Load()
		if i < len(h.Cumulative) {
			h.Cumulative[i] = run
		}
	}
	h.Count = run
	h.SumMicros = float64(c.latencySumNanos.Load()) / float64(time.Microsecond)
	s.Latency = h
	return s
}
