package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/agent"
	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/dropalert"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/reload"
)

func scrape(t *testing.T, src Sources) string {
	rec := httptest.NewRecorder()
	Handler(src).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

// TestLiveMetrics checks the exposition of the reload, latency, fd table
// and drop alert metrics.
func TestLiveMetrics(t *testing.T) {
	lat := detect.NewLatency()
	lat.Observe(0) // boot time: far beyond the last bucket
	body := scrape(t, Sources{
		Agent:   func() agent.Stats { return agent.Stats{Table: proc.Stats{Entries: 3, FDs: 42, FDsDropped: 1}} },
		Latency: lat.Snapshot,
		Reload: func() reload.Stats {
			return reload.Stats{Successes: 2, Failures: 1, LastSuccess: time.Unix(1700000000, 0), RulesLoaded: 7}
		},
		Syscalls:  func() []string { return []string{"mkdirat", "openat"} },
		DropAlert: func() dropalert.Stats { return dropalert.Stats{Checks: 9, Alerts: 1} },
	})
	for _, want := range []string{
		"vigil_fd_table_entries 42\n",
		"vigil_fd_table_dropped_total 1\n",
		`vigil_pipeline_latency_seconds_bucket{le="0.001"} 0` + "\n",
		`vigil_pipeline_latency_seconds_bucket{le="10"} 0` + "\n",
		`vigil_pipeline_latency_seconds_bucket{le="+Inf"} 1` + "\n",
		"vigil_pipeline_latency_seconds_count 1\n",
		`vigil_reload_total{result="success"} 2` + "\n",
		`vigil_reload_total{result="failure"} 1` + "\n",
		"vigil_reload_last_success_timestamp_seconds 1.7e+09\n",
		"vigil_rules_loaded 7\n",
		`vigil_kernel_filter_syscalls{syscall="mkdirat"} 1` + "\n",
		`vigil_kernel_filter_syscalls{syscall="openat"} 1` + "\n",
		"vigil_kernel_drop_alerts_total 1\n",
		"vigil_kernel_drop_checks_total 9\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
