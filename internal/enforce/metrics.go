package enforce

import (
	"encoding/json"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	descActions = prometheus.NewDesc("vigil_enforcement_actions_total",
		"Rule actions by outcome: blocked, killed, container_killed, audited (would have acted), failed.", []string{"outcome"}, nil)
	descFailures = prometheus.NewDesc("vigil_enforcement_decision_failures_total",
		"Pre-operation decisions that failed (timeout, internal error) and were answered by policy: fail_open or fail_closed.", []string{"policy"}, nil)
	descReaction = prometheus.NewDesc("vigil_enforcement_kill_reaction_seconds_total",
		"Sum of the times from the kernel event to a kill after detection.", nil, nil)
	descDecisions = prometheus.NewDesc("vigil_enforcement_decision_latency_seconds",
		"Time from reading a fanotify permission event to answering it.", nil, nil)
)

// Collector exports the running enforcer's counters at scrape time; while
// no rule has an action there are none.
func (m *Manager) Collector() prometheus.Collector { return statusCollector(m.Status) }

// statusCollector turns the live Status into metrics on each scrape.
type statusCollector func() *Status

func (statusCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descActions, descFailures, descReaction, descDecisions} {
		ch <- d
	}
}

func (c statusCollector) Collect(ch chan<- prometheus.Metric) {
	st := c()
	if st == nil || st.Stats == nil {
		return
	}
	s := st.Stats
	for outcome, v := range map[string]uint64{"blocked": s.Blocked, "killed": s.Killed, "container_killed": s.ContainersKilled,
		"audited": s.Audited, "failed": s.Failed} {
		ch <- prometheus.MustNewConstMetric(descActions, prometheus.CounterValue, float64(v), outcome)
	}
	ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(s.FailOpen), "fail_open")
	ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(s.FailClosed), "fail_closed")
	ch <- prometheus.MustNewConstMetric(descReaction, prometheus.CounterValue, float64(s.ReactionNSTotal)/1e9)
	if h := s.Decisions; h != nil && len(h.BoundsMicros) == len(h.Cumulative) {
		buckets := make(map[float64]uint64, len(h.BoundsMicros))
		for i, b := range h.BoundsMicros {
			buckets[b/1e6] = h.Cumulative[i]
		}
		ch <- prometheus.MustNewConstHistogram(descDecisions, h.Count, h.SumMicros/1e6, buckets)
	}
}

// StatusHandler serves the live Status as JSON, for `vigil enforce
// status --agent`.
func (m *Manager) StatusHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		b, err := json.Marshal(m.Status())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(append(b, '\n')) // a failed write: the client went away
	})
}
