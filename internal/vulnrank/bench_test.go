package vulnrank

import (
	"context"
	"testing"
)

// BenchmarkCollectProc reads the runtime facts of the processes sharing
// this machine's root, as `vigil scan host` does.
func BenchmarkCollectProc(b *testing.B) {
	procs := 0
	for b.Loop() {
		f, err := CollectProc(context.Background(), ProcOptions{})
		if err != nil {
			b.Fatal(err)
		}
		procs = len(f.Processes)
	}
	b.ReportMetric(float64(procs), "processes")
}
