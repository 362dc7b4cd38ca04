package enforce

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/enforce/fanguard"
	"github.com/vigilsec/vigil/internal/testutil"
)

// TestCollector: the enforcer's counters and decision latency, and no
// enforcement series while nothing enforces.
func TestCollector(t *testing.T) {
	st := &Status{Stats: &Stats{Blocked: 1, Killed: 2, ContainersKilled: 3, Audited: 4, Failed: 5, FailOpen: 6, FailClosed: 7,
		ReactionNSTotal: 1.5e9, Decisions: &fanguard.Histogram{BoundsMicros: []float64{100, 1000}, Cumulative: []uint64{2, 3}, Count: 4, SumMicros: 2500}}}
	body := testutil.Scrape(t, statusCollector(func() *Status { return st }))
	testutil.WantLines(t, body,
		`vigil_enforcement_actions_total{outcome="blocked"} 1`,
		`vigil_enforcement_actions_total{outcome="killed"} 2`,
		`vigil_enforcement_actions_total{outcome="container_killed"} 3`,
		`vigil_enforcement_actions_total{outcome="audited"} 4`,
		`vigil_enforcement_actions_total{outcome="failed"} 5`,
		`vigil_enforcement_decision_failures_total{policy="fail_open"} 6`,
		`vigil_enforcement_decision_failures_total{policy="fail_closed"} 7`,
		"vigil_enforcement_kill_reaction_seconds_total 1.5",
		`vigil_enforcement_decision_latency_seconds_bucket{le="0.0001"} 2`,
		`vigil_enforcement_decision_latency_seconds_bucket{le="0.001"} 3`,
		"vigil_enforcement_decision_latency_seconds_count 4",
		"vigil_enforcement_decision_latency_seconds_sum 0.0025",
	)
	m := NewManager(ManagerConfig{})
	if body := testutil.Scrape(t, m.Collector()); strings.Contains(body, "vigil_enforcement") {
		t.Errorf("enforcement series with nothing enforcing:\n%s", body)
	}
}

// TestStatusHandler serves the live state as JSON: empty while nothing
// enforces.
func TestStatusHandler(t *testing.T) {
	rec := httptest.NewRecorder()
	NewManager(ManagerConfig{}).StatusHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/enforce/status", nil))
	var st Status
	if err := json.NewDecoder(rec.Body).Decode(&st); err != nil || rec.Header().Get("Content-Type") != "application/json" ||
		st.Rules != nil || st.Stats != nil {
		t.Errorf("status %+v, %v, content type %q", st, err, rec.Header().Get("Content-Type"))
	}
}
