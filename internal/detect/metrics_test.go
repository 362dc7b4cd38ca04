package detect

import (
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

// TestCollectors checks the exposition of the rule matches and of the
// latency histogram.
func TestCollectors(t *testing.T) {
	lat := NewLatency()
	lat.Observe(0) // boot time: far beyond the last bucket
	rules := ruleCollector(func() Stats { return Stats{Rules: []RuleStats{{Name: "Shell", Matches: 3}}} })
	body := testutil.Scrape(t, rules, lat.Collector())
	testutil.WantLines(t, body,
		`vigil_rule_matches_total{rule="Shell"} 3`,
		`vigil_pipeline_latency_seconds_bucket{le="0.001"} 0`,
		`vigil_pipeline_latency_seconds_bucket{le="10"} 0`,
		`vigil_pipeline_latency_seconds_bucket{le="+Inf"} 1`,
		"vigil_pipeline_latency_seconds_count 1",
	)
}
