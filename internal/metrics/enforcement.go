package metrics

import (
	"encoding/json"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigilsec/vigil/internal/enforce"
)

var (
	descEnforceActions = prometheus.NewDesc("vigil_enforcement_actions_total",
		"Rule actions by outcome: blocked, killed, container_killed, audited (would have acted), failed.", []string{"outcome"}, nil)
	descEnforceFailures = prometheus.NewDesc("vigil_enforcement_decision_failures_total",
		"Pre-operation decisions that failed (timeout, internal error) and were answered by policy: fail_open or fail_closed.", []string{"policy"}, nil)
	descEnforceReaction = prometheus.NewDesc("vigil_enforcement_kill_reaction_seconds_total",
		"Sum of the times from the kernel event to a kill after detection.", nil, nil)
	descEnforceDecisions = prometheus.NewDesc("vigil_enforcement_decision_latency_seconds",
		"Time from reading a fanotify permission event to answering it.", nil, nil)
)

// enforcementCollector exports the enforcer's counters at scrape time.
type enforcementCollector struct{ status func() *enforce.Status }

func (c enforcementCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descEnforceActions, descEnforceFailures, descEnforceReaction, descEnforceDecisions} {
		ch <- d
	}
}

func (c enforcementCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.status()
	if st == nil || st.Stats == nil {
		return
	}
	s := st.Stats
	for outcome, v := range map[string]uint64{"blocked": s.Blocked, "killed": s.Killed, "container_killed": s.ContainersKilled,
		"audited": s.Audited, "failed": s.Failed} {
		ch <- prometheus.MustNewConstMetric(descEnforceActions, prometheus.CounterValue, float64(v), outcome)
	}
	ch <- prometheus.MustNewConstMetric(descEnforceFailures, prometheus.CounterValue, float64(s.FailOpen), "fail_open")
	ch <- prometheus.MustNewConstMetric(descEnforceFailures, prometheus.CounterValue, float64(s.FailClosed), "fail_closed")
	ch <- prometheus.MustNewConstMetric(descEnforceReaction, prometheus.CounterValue, float64(s.ReactionNSTotal)/1e9)
	if h := s.Decisions; h != nil && len(h.BoundsMicros) == len(h.Cumulative) {
		buckets := make(map[float64]uint64, len(h.BoundsMicros))
		for i, b := range h.BoundsMicros {
			buckets[b/1e6] = h.Cumulative[i]
		}
		ch <- prometheus.MustNewConstHistogram(descEnforceDecisions, h.Count, h.SumMicros/1e6, buckets)
	}
}

// enforcementStatus serves the live state for `vigil enforce status --agent`.
func enforcementStatus(status func() *enforce.Status) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		st := status()
		if st == nil {
			st = &enforce.Status{}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(st)
	}
}
