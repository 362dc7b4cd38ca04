package testutil

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigilsec/vigil/internal/metrics"
)

// Scrape serves cs the way the agent's /metrics does and returns the
// exposition text, for tests of a component's collector.
func Scrape(t testing.TB, cs ...prometheus.Collector) string {
	t.Helper()
	rec := httptest.NewRecorder()
	metrics.Handler(cs, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, err := io.ReadAll(rec.Body)
	if err != nil || rec.Code != 200 {
		t.Fatalf("/metrics: %d %v\n%s", rec.Code, err, body)
	}
	return string(body)
}

// WantLines fails the test for each of want that is not a whole line of
// text (a line of want may omit its trailing newline).
func WantLines(t testing.TB, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if len(w) == 0 || w[len(w)-1] != '\n' {
			w += "\n"
		}
		if !containsLine(text, w) {
			t.Errorf("/metrics lacks %q", w)
		}
	}
}

func containsLine(text, line string) bool {
	return strings.HasPrefix(text, line) || strings.Contains(text, "\n"+line)
}
