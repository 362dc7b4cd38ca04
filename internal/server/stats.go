package server

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigilsec/vigil/internal/transport"
)

// Stats are a replica's counters.
type Stats struct {
	Stored         uint64            `json:"stored"`     // alerts newly stored
	Duplicates     uint64            `json:"duplicates"` // alerts already stored (redeliveries)
	Rejected       map[string]uint64 `json:"rejected"`   // refused messages by reason
	Heartbeats     uint64            `json:"heartbeats"`
	InternalAlerts uint64            `json:"internal_alerts"`
	DBErrors       uint64            `json:"db_errors"`
}

type stats struct {
	stored, duplicates, heartbeats, internalAlerts, dbErrors atomic.Uint64

	mu      sync.Mutex
	rejects map[string]uint64
	batch   prometheus.Histogram
}

func newStats() *stats {
	return &stats{rejects: map[string]uint64{}, batch: prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "vigil_server_batch_seconds", Help: "Time to store one batch of alerts in PostgreSQL.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)})}
}

func (s *stats) rejected(reason string) {
	s.mu.Lock()
	s.rejects[reason]++
	s.mu.Unlock()
}

func (s *stats) observeBatch(d time.Duration) { s.batch.Observe(d.Seconds()) }

func (s *stats) snapshot() Stats {
	s.mu.Lock()
	rej := make(map[string]uint64, len(s.rejects))
	for k, v := range s.rejects {
		rej[k] = v
	}
	s.mu.Unlock()
	return Stats{Stored: s.stored.Load(), Duplicates: s.duplicates.Load(), Rejected: rej, Heartbeats: s.heartbeats.Load(),
		InternalAlerts: s.internalAlerts.Load(), DBErrors: s.dbErrors.Load()}
}

var (
	descMessages = prometheus.NewDesc("vigil_server_alerts_total", "Alerts consumed, by result: stored, or duplicate (already stored).", []string{"result"}, nil)
	descRejects  = prometheus.NewDesc("vigil_server_rejected_total", "Messages refused, by reason.", []string{"reason"}, nil)
	descHB       = prometheus.NewDesc("vigil_server_heartbeats_total", "Agent heartbeats recorded.", nil, nil)
	descInternal = prometheus.NewDesc("vigil_server_internal_alerts_total", "Alerts the server raised about agents.", nil, nil)
	descDBErrors = prometheus.NewDesc("vigil_server_db_errors_total", "Failed database writes (the messages are redelivered).", nil, nil)
	descPending  = prometheus.NewDesc("vigil_server_pending_messages", "Messages waiting in the shared data consumer.", nil, nil)
	descAgents   = prometheus.NewDesc("vigil_server_agents", "Agents by state.", []string{"state"}, nil)
)

type collector struct {
	s   *stats
	srv *Server
}

func (s *stats) collector(srv *Server) prometheus.Collector { return collector{s: s, srv: srv} }

// Describe implements prometheus.Collector.
func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descMessages, descRejects, descHB, descInternal, descDBErrors, descPending, descAgents} {
		ch <- d
	}
	c.s.batch.Describe(ch)
}

// Collect implements prometheus.Collector: counters as they are, and the
// consumer's backlog and agent states asked at scrape time.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.snapshot()
	ch <- prometheus.MustNewConstMetric(descMessages, prometheus.CounterValue, float64(st.Stored), "stored")
	ch <- prometheus.MustNewConstMetric(descMessages, prometheus.CounterValue, float64(st.Duplicates), "duplicate")
	reasons := make([]string, 0, len(st.Rejected))
	for r := range st.Rejected {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		ch <- prometheus.MustNewConstMetric(descRejects, prometheus.CounterValue, float64(st.Rejected[r]), r)
	}
	ch <- prometheus.MustNewConstMetric(descHB, prometheus.CounterValue, float64(st.Heartbeats))
	ch <- prometheus.MustNewConstMetric(descInternal, prometheus.CounterValue, float64(st.InternalAlerts))
	ch <- prometheus.MustNewConstMetric(descDBErrors, prometheus.CounterValue, float64(st.DBErrors))
	c.s.batch.Collect(ch)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if info, err := c.srv.data.Info(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(info.NumPending+uint64(info.NumAckPending)))
	}
	if agents, err := c.srv.store.Agents(ctx); err == nil {
		n := map[string]int{"up": 0, "silent": 0}
		for _, a := range agents {
			n[a.State]++
		}
		for state, k := range n {
			ch <- prometheus.MustNewConstMetric(descAgents, prometheus.GaugeValue, float64(k), state)
		}
	}
}

// rejectLog logs refused messages with their reason, at most a few per
// reason per minute, so that a flood of bad input cannot flood the log
// (the counters still count every one).
type rejectLog struct {
	out *slog.Logger
	mu  sync.Mutex
	win time.Time
	n   map[string]int
}

const rejectLogsPerMinute = 10

func newRejectLog(log *slog.Logger) *rejectLog { return &rejectLog{out: log, n: map[string]int{}} }

func (l *rejectLog) log(r *transport.Reject, subject string, size int) {
	l.mu.Lock()
	now := time.Now()
	if now.Sub(l.win) > time.Minute {
		l.win, l.n = now, map[string]int{}
	}
	l.n[r.Reason]++
	n := l.n[r.Reason]
	l.mu.Unlock()
	switch {
	case n <= rejectLogsPerMinute:
		l.out.Warn("server: message refused", "reason", r.Reason, "detail", r.Err.Error(), "subject", subject, "bytes", size)
	case n == rejectLogsPerMinute+1:
		l.out.Warn("server: more messages refused for this reason; not logging them for a minute", "reason", r.Reason)
	}
}
