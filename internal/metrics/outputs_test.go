package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/outputs"
)

func TestOutputMetrics(t *testing.T) {
	h := Handler(Sources{Outputs: func() []outputs.Stats {
		return []outputs.Stats{{Output: "http", Sent: 3, Failed: 1, Dropped: 7}}
	}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`vigil_output_alerts_total{outcome="sent",output="http"} 3`,
		`vigil_output_alerts_total{outcome="failed",output="http"} 1`,
		`vigil_output_alerts_total{outcome="dropped",output="http"} 7`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
