package outputs

import (
	"testing"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/testutil"
)

func TestCollector(t *testing.T) {
	body := testutil.Scrape(t, statsCollector{
		delivery: func() alert.DeliveryStats { return alert.DeliveryStats{Emitted: 10, Written: 9, Dropped: 1, Errors: 2} },
		outputs:  func() []Stats { return []Stats{{Output: "http", Sent: 3, Failed: 1, Dropped: 7}} },
	})
	testutil.WantLines(t, body,
		`vigil_alerts_total{outcome="emitted"} 10`,
		`vigil_alerts_total{outcome="written"} 9`,
		`vigil_alerts_total{outcome="dropped"} 1`,
		`vigil_alerts_total{outcome="error"} 2`,
		`vigil_output_alerts_total{outcome="sent",output="http"} 3`,
		`vigil_output_alerts_total{outcome="failed",output="http"} 1`,
		`vigil_output_alerts_total{outcome="dropped",output="http"} 7`,
	)
}
