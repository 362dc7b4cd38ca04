package reload

import (
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/testutil"
)

func TestCollector(t *testing.T) {
	body := testutil.Scrape(t, statsCollector(func() Stats {
		return Stats{Successes: 2, Failures: 1, LastSuccess: time.Unix(1700000000, 0), RulesLoaded: 7}
	}))
	testutil.WantLines(t, body,
		`vigil_reload_total{result="success"} 2`,
		`vigil_reload_total{result="failure"} 1`,
		"vigil_reload_last_success_timestamp_seconds 1.7e+09",
		"vigil_rules_loaded 7",
	)
}
