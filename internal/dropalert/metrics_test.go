package dropalert

import (
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

// TestCollector: the monitor's counters, and zeros while the drop alert
// is off.
func TestCollector(t *testing.T) {
	m := &Monitor{}
	m.checks.Store(9)
	m.alerts.Store(1)
	testutil.WantLines(t, testutil.Scrape(t, m.Collector()),
		"vigil_kernel_drop_alerts_total 1",
		"vigil_kernel_drop_checks_total 9",
	)
	var off *Monitor
	testutil.WantLines(t, testutil.Scrape(t, off.Collector()),
		"vigil_kernel_drop_alerts_total 0",
		"vigil_kernel_drop_checks_total 0",
	)
}
