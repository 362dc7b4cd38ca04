package api_test

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/vigilsec/vigil/internal/api"
	"github.com/vigilsec/vigil/internal/api/apitest"
)

// BenchmarkMapAPI answers /api/v1/map for a node with 500 workloads and
// 10,000 flows, injected as kernel events through the event adapters.
// Besides the time and allocations per response it reports the
// response's size and the heap the flows, baselines and process table
// hold (node-heap-MB), measured after a GC.
func BenchmarkMapAPI(b *testing.B) {
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	env := apitest.New(b)
	env.Synthetic(500, 10000)
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if n := env.Flows.Stats().Flows; n != 10000 {
		b.Fatalf("%d flows, want 10000", n)
	}
	srv := env.NewServer(b, api.Config{}, api.Options{})
	h := srv.Handler()
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/api/v1/map", nil)
	var size int
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size)/(1<<20), "response-MB")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "node-heap-MB")
	runtime.KeepAlive(env)
}
