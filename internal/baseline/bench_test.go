package baseline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/baseline/store"
	"github.com/vigilsec/vigil/internal/workload"
)

// profileFacts is what one realistic service does during learning: a
// few dozen programs (a shell entrypoint, an interpreter, tools), logs and
// temporary files with random names, its service-account token, two
// ports, some upstreams and DNS, clients from the pod network, about a
// hundred syscalls.
func profileFacts(rng *rand.Rand) []*Fact {
	var out []*Fact
	bins := []string{"/bin/sh", "/usr/bin/env", "/usr/local/bin/app", "/usr/bin/python3.11", "/usr/bin/curl", "/bin/ls",
		"/bin/cat", "/usr/bin/awk", "/bin/sed", "/usr/bin/find", "/bin/date", "/usr/bin/id", "/bin/hostname"}
	for i := range 40 {
		b := bins[i%len(bins)]
		if i >= len(bins) {
			b = fmt.Sprintf("/usr/local/lib/app/tools/t%d", i)
		}
		out = append(out, &Fact{Dim: DimExec, Path: b, Identity: fmt.Sprintf("sha256:%064x", rng.Uint64())})
		out = append(out, &Fact{Dim: DimExecEdge, Parent: bins[i%3], Path: b})
	}
	for i := range 30 {
		out = append(out, &Fact{Dim: DimFileWrite, Path: fmt.Sprintf("/var/log/app/%s.log", []string{"access", "error", "audit"}[i%3])})
		out = append(out, &Fact{Dim: DimFileWrite, Path: fmt.Sprintf("/tmp/tmp%08x/%d.part", rng.Uint32(), i)})
		out = append(out, &Fact{Dim: DimFileWrite, Path: fmt.Sprintf("/app/cache/%c%c/%d", 'a'+rune(i%26), 'a'+rune(i/26), i)})
	}
	for _, p := range []string{"/var/run/secrets/kubernetes.io/serviceaccount/token", "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", "/etc/ssl/private/app.key"} {
		out = append(out, &Fact{Dim: DimFileRead, Path: p})
	}
	out = append(out, &Fact{Dim: DimListen, Port: 8080, Proto: ProtoTCP}, &Fact{Dim: DimListen, Port: 9090, Proto: ProtoTCP})
	for i := range 20 {
		out = append(out, &Fact{Dim: DimOutbound, Addr: netip.AddrFrom4([4]byte{10, 96, byte(i % 4), byte(rng.IntN(250) + 1)}),
			Port: []uint16{5432, 6379, 443, 53}[i%4], Proto: []Proto{ProtoTCP, ProtoTCP, ProtoTCP, ProtoUDP}[i%4]})
	}
	for range 60 {
		out = append(out, &Fact{Dim: DimInbound, Addr: netip.AddrFrom4([4]byte{10, 244, byte(rng.IntN(8)), byte(rng.IntN(250) + 1)}), Port: 8080, Proto: ProtoTCP})
	}
	for nr := range uint32(110) {
		out = append(out, &Fact{Dim: DimSyscall, Num: nr})
	}
	out = append(out, &Fact{Dim: DimCapability, Num: capNetBindService}, &Fact{Dim: DimUser, Num: 0}, &Fact{Dim: DimUser, Num: 1000})
	return out
}

func workloadN(i int) *workload.Workload {
	return workload.NewK8s(fmt.Sprintf("ns%d", i%40), workload.OwnerDeployment, fmt.Sprintf("svc%d", i), "app", false)
}

// BenchmarkObserveKnown is the event path for what the baseline holds,
// per dimension, from every core at once.
func BenchmarkObserveKnown(b *testing.B) {
	h := newHarness(b, nil)
	facts := profileFacts(rand.New(rand.NewPCG(1, 1)))
	for _, f := range facts {
		h.e.Observe(web, f, nil)
	}
	h.e.Flush()
	if err := h.e.SetMode(web.ID, Monitor); err != nil {
		b.Fatal(err)
	}
	seen := map[Dimension]bool{}
	for _, f := range facts {
		if seen[f.Dim] {
			continue
		}
		seen[f.Dim] = true
		f := *f
		if f.Dim == DimFileWrite {
			f.Path = "/tmp/tmp0badc0de/7.part" // known through a pattern
		}
		if r := h.e.Observe(web, &f, nil); r != Known {
			b.Fatalf("%s: %v", f.Value(), r)
		}
		b.Run(f.Dim.String(), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				g := f
				for pb.Next() {
					h.e.Observe(web, &g, nil)
				}
			})
		})
	}
}

// BenchmarkObserveNewInMonitor is a departure repeated: the burst after
// the first alert.
func BenchmarkObserveNewInMonitor(b *testing.B) {
	h := newHarness(b, nil)
	h.e.Observe(web, execFact("/bin/sh", ""), nil)
	h.e.Flush()
	if err := h.e.SetMode(web.ID, Monitor); err != nil {
		b.Fatal(err)
	}
	f := execFact("/usr/bin/nc", "")
	b.ReportAllocs()
	for b.Loop() {
		h.e.Observe(web, f, nil)
	}
}

// BenchmarkMemory1000Workloads reports the heap that 1,000 workloads
// with realistic profiles take (learned, generalised, in monitor).
func BenchmarkMemory1000Workloads(b *testing.B) {
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		h := newHarness(b, nil)
		rng := rand.New(rand.NewPCG(2, 2))
		entries := 0
		for i := range 1000 {
			w := workloadN(i)
			for _, f := range profileFacts(rng) {
				h.e.Observe(w, f, nil)
			}
		}
		h.e.Flush()
		for _, s := range h.e.Workloads() {
			entries += s.Total()
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap := float64(after.HeapAlloc) - float64(before.HeapAlloc)
		b.ReportMetric(heap/(1<<20), "MiB/1000-workloads")
		b.ReportMetric(heap/1000/1024, "KiB/workload")
		b.ReportMetric(float64(entries)/1000, "entries/workload")
		runtime.KeepAlive(h)
	}
}

// BenchmarkStore1000Workloads reports the store's size for 1,000
// realistic workloads and the time to load them at start.
func BenchmarkStore1000Workloads(b *testing.B) {
	for b.Loop() {
		dir := b.TempDir()
		st, err := store.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		w := st.NewWriter(1<<20, time.Second, nil)
		cfg := Default()
		e, _ := New(cfg, Options{Store: w})
		rng := rand.New(rand.NewPCG(3, 3))
		for i := range 1000 {
			wl := workloadN(i)
			for _, f := range profileFacts(rng) {
				e.Observe(wl, f, nil)
			}
		}
		start := time.Now()
		e.Flush()
		if err := w.Sync(context.Background()); err != nil {
			b.Fatal(err)
		}
		written := time.Since(start)
		w.Close()
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		size := int64(0)
		for _, suffix := range []string{"", "-wal"} {
			if fi, err := os.Stat(dir + "/" + store.FileName + suffix); err == nil {
				size += fi.Size()
			}
		}
		start = time.Now()
		st, _ = store.Open(dir)
		recs, err := st.Load()
		if err != nil {
			b.Fatal(err)
		}
		e2, _ := New(cfg, Options{})
		if err := e2.Restore(recs); err != nil {
			b.Fatal(err)
		}
		loaded := time.Since(start)
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(size)/(1<<20), "MiB-on-disk")
		b.ReportMetric(written.Seconds(), "s-first-write")
		b.ReportMetric(loaded.Seconds(), "s-load")
	}
}
