package flows

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/workload"
)

// synthetic returns n observations spread over nw workloads: each
// workload talks to the next ones on a few ports and to outside
// addresses, as a cluster's services do.
func synthetic(nw, n int) []Observation {
	ws := make([]*workload.Workload, nw)
	for i := range ws {
		ws[i] = workload.NewK8s(fmt.Sprintf("ns%d", i%20), workload.OwnerDeployment, fmt.Sprintf("svc%d", i), "app", false)
	}
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 244, byte(i / 250), byte(i%250 + 1)}) }
	obs := make([]Observation, 0, n)
	for i := 0; len(obs) < n; i++ {
		w := i % nw
		k := i / nw
		o := Observation{Workload: ws[w], Dir: Outbound, Proto: TCP, Local: netip.AddrPortFrom(addr(w), 40000)}
		if k%4 == 3 {
			o.Peer = netip.AddrPortFrom(netip.AddrFrom4([4]byte{93, 184, byte(k), byte(w)}), 443)
		} else {
			o.Peer = netip.AddrPortFrom(addr((w+k+1)%nw), uint16(8000+k%3))
		}
		obs = append(obs, o)
	}
	return obs
}

// BenchmarkObserveKnown is the event path for flows the map holds, on
// every core.
func BenchmarkObserveKnown(b *testing.B) {
	a, _ := newAgg(b, Config{}, nil)
	obs := synthetic(100, 1000)
	for i := range obs {
		a.Observe(&obs[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			o := obs[i%len(obs)]
			o.Time = 1
			a.Observe(&o)
			i++
		}
	})
}

// BenchmarkObserverHandle is the adapter's path for a connect event of a
// known flow: workload resolution, key and counters.
func BenchmarkObserverHandle(b *testing.B) {
	h := newObserveHarness(b)
	h.handle(execEv(100, 10, "/usr/bin/web"))
	ev := sockEv(100, 10, "connect", event.OpConnect, sockStream, 3, "10.244.0.5:40000", "10.244.0.9:8080", 0)
	h.handle(ev)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.obs.Handle(0, ev)
	}
}

// BenchmarkObserveNew is the slow path: every observation a new flow
// (the caps are raised so that nothing is refused).
func BenchmarkObserveNew(b *testing.B) {
	a, _ := newAgg(b, Config{MaxFlows: 1 << 30, MaxPerWorkload: 1 << 30, ScanPorts: 1 << 30, ScanAddrs: 1 << 30}, nil)
	w := workload.NewK8s("ns", workload.OwnerDeployment, "svc", "app", false)
	b.ReportAllocs()
	i := uint32(0)
	for b.Loop() {
		i++
		a.Observe(&Observation{Workload: w, Dir: Outbound, Proto: TCP, Local: ap("10.244.0.1:40000"),
			Peer: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 80)})
	}
}

// BenchmarkSnapshot resolves and merges 10,000 flows of 500 workloads.
func BenchmarkSnapshot(b *testing.B) {
	a, _ := newAgg(b, Config{}, nil)
	obs := synthetic(500, 10000)
	for i := range obs {
		a.Observe(&obs[i])
	}
	if n := a.Stats().Flows; n != 10000 {
		b.Fatalf("%d flows, want 10000", n)
	}
	b.ReportAllocs()
	for b.Loop() {
		a.Snapshot()
	}
}
