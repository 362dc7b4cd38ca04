// Package dropalert raises an alert when the kernel loses too many events.
// Kernel drops are counted in metrics already, but a security team reads
// alerts, not dashboards: a sensor that silently misses most of what
// happens on a node must say so where its detections go.
package dropalert

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
)

// Rule is the alert's rule name, so that tools can route or silence it
// like any rule.
const Rule = "Vigil kernel event drops"

// Counters are the sensor's running totals.
type Counters struct {
	Received uint64 // events read from the ring buffer
	Dropped  uint64 // events the kernel could not hand over
}

// Config configures a Monitor.
type Config struct {
	// Ratio is the share of events lost, drops / (drops + received), over
	// Window above which the alert fires.
	Ratio float64
	// Window is the span the ratio is measured over and the least time
	// between two alerts; Interval is how often Counters is read. Window
	// is rounded down to a whole number of intervals.
	Window, Interval time.Duration
	// Counters reads the totals; Emit hands the alert to the outputs.
	Counters func() Counters
	Emit     func(*alert.Alert) bool
	Hostname string
}

// Monitor samples the counters every Interval and alerts when the last
// Window lost too much. Check is the whole decision; Start runs it on a
// ticker.
type Monitor struct {
	cfg Config
	n   int // intervals per window

	mu sync.Mutex
	// samples holds the last n+1 readings, oldest first, so that the
	// newest minus the oldest spans one window once it is full.
	samples []Counters
	// sinceAlert counts checks since the last alert; -1 before any.
	sinceAlert int

	alerts atomic.Uint64
	checks atomic.Uint64
	stop   chan struct{}
	done   chan struct{}
}

// New returns a monitor and takes its first sample.
func New(cfg Config) *Monitor {
	n := max(1, int(cfg.Window/cfg.Interval))
	m := &Monitor{cfg: cfg, n: n, sinceAlert: -1, samples: make([]Counters, 0, n+1)}
	m.samples = append(m.samples, cfg.Counters())
	return m
}

// Check takes a sample and emits an alert if the drops over the last
// window (or since the start, before a window has passed) exceed the
// ratio and no alert was emitted in the last window. It reports whether
// it alerted.
func (m *Monitor) Check() bool {
	now := m.cfg.Counters()
	m.mu.Lock()
	if len(m.samples) == m.n+1 {
		copy(m.samples, m.samples[1:])
		m.samples = m.samples[:m.n]
	}
	m.samples = append(m.samples, now)
	oldest := m.samples[0]
	if m.sinceAlert >= 0 {
		m.sinceAlert++
	}
	dropped := now.Dropped - min(now.Dropped, oldest.Dropped)
	received := now.Received - min(now.Received, oldest.Received)
	total := dropped + received
	fire := dropped > 0 && float64(dropped) > m.cfg.Ratio*float64(total) &&
		(m.sinceAlert < 0 || m.sinceAlert >= m.n)
	if fire {
		m.sinceAlert = 0
	}
	span := time.Duration(len(m.samples)-1) * m.cfg.Interval
	m.mu.Unlock()
	if fire {
		m.alerts.Add(1)
		m.cfg.Emit(m.alert(dropped, total, span))
	}
	m.checks.Add(1)
	return fire
}

func (m *Monitor) alert(dropped, total uint64, span time.Duration) *alert.Alert {
	ratio := float64(dropped) / float64(total)
	pct := strconv.FormatFloat(ratio*100, 'f', 2, 64)
	return &alert.Alert{
		Time:     time.Now().UTC(),
		Rule:     Rule,
		Priority: "Warning",
		Source:   alert.InternalSource,
		Hostname: m.cfg.Hostname,
		Output: fmt.Sprintf("kernel dropped %d of %d events (%s%%) in the last %s; detections may be missed "+
			"(raise ring_buffer_size, or load fewer rules)", dropped, total, pct, span),
		Tags: []string{"vigil", "kernel_drops"},
		OutputFields: map[string]any{
			"vigil.kernel_drops": dropped, "vigil.events_received": total - dropped,
			"vigil.drop_ratio": ratio, "vigil.window": span.String(),
		},
		Context: alert.Context{Process: alert.Process{Ancestors: []string{}}},
	}
}

// Stats are the monitor's counters.
type Stats struct {
	Checks uint64 // samples taken and judged
	Alerts uint64 // drop alerts emitted
}

// Stats returns the counters.
func (m *Monitor) Stats() Stats { return Stats{Checks: m.checks.Load(), Alerts: m.alerts.Load()} }

// Start runs Check every Interval until Stop.
func (m *Monitor) Start() {
	m.stop, m.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(m.done)
		t := time.NewTicker(m.cfg.Interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				m.Check()
			case <-m.stop:
				return
			}
		}
	}()
}

// Stop ends the checks.
func (m *Monitor) Stop() {
	if m.stop != nil {
		close(m.stop)
		<-m.done
		m.stop = nil
	}
}
