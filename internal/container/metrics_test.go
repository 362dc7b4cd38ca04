package container

import (
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

func TestCollector(t *testing.T) {
	body := testutil.Scrape(t, statsCollector(func() Stats {
		return Stats{Containers: 4, NotYetKnown: 2, Unresolved: 1, Fetches: 6, FetchErrors: 1, FetchNotFound: 2,
			QueueDrops: 3, WatchErrors: 5}
	}))
	testutil.WantLines(t, body,
		`vigil_container_lookups_total{outcome="not_yet_known"} 2`,
		`vigil_container_lookups_total{outcome="unresolved"} 1`,
		`vigil_container_runtime_requests_total{outcome="ok"} 3`,
		`vigil_container_runtime_requests_total{outcome="error"} 1`,
		`vigil_container_runtime_requests_total{outcome="not_found"} 2`,
		`vigil_container_runtime_requests_total{outcome="dropped"} 3`,
		"vigil_container_runtime_watch_errors_total 5",
		"vigil_containers_known 4",
	)
}
