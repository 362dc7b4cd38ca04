package container_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/container/dockerapi"
	"github.com/vigilsec/vigil/internal/testutil"
)

// BenchmarkDockerRunToEnriched measures, for real containers started while
// the agent runs, the time from the start of `docker run` to the first exec
// event in the container and to that event's complete identity, and how
// often the identity was already complete on the event path. Run it with a
// small count: go test -run '^$' -bench DockerRun -benchtime 5x.
func BenchmarkDockerRunToEnriched(b *testing.B) {
	testutil.RequireDocker(b)
	testutil.RequireBPF(b)
	h := startHarness(b, container.Config{
		Sources: []container.Source{dockerapi.New(testutil.DockerSocket, container.RuntimeDocker)},
	})
	var toExec, toEnriched time.Duration
	complete := 0
	n := 0
	for b.Loop() {
		name := fmt.Sprintf("vigil-bench-run-%d", n)
		t0 := time.Now()
		_, pid := runContainer(b, "docker", name, image, "sleep", "30")
		cg := cgroupOf(b, pid)
		first := h.execs(b, name, func(r *record) bool { return r.cgroupID == cg })[0]
		if first.finalState != container.StateComplete {
			b.Fatalf("%s: first exec ended %s", name, first.finalState)
		}
		toExec += first.handledAt.Sub(t0)
		toEnriched += first.finalAt.Sub(t0)
		if first.state == container.StateComplete {
			complete++
		}
		cli(b, "docker", "rm", "-f", name)
		n++
	}
	b.ReportMetric(float64(toExec.Milliseconds())/float64(n), "ms-to-first-exec")
	b.ReportMetric(float64(toEnriched.Milliseconds())/float64(n), "ms-to-enriched")
	b.ReportMetric(100*float64(complete)/float64(n), "%complete-at-exec")
}
