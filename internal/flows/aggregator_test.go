package flows

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/workload"
)

var (
	client = workload.NewK8s("shop", workload.OwnerDeployment, "frontend", "web", false)
	server = workload.NewK8s("shop", workload.OwnerDeployment, "api", "app", false)
	hostWl = workload.NewUnit("nginx.service")
	hostCl = workload.NewExe("/usr/bin/curl")
)

// clock is a settable wall clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newAgg(t testing.TB, cfg Config, names Names) (*Aggregator, *clock) {
	t.Helper()
	clk := newClock()
	a, err := New(cfg, Options{Now: clk.Now, Names: names})
	if err != nil {
		t.Fatal(err)
	}
	return a, clk
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func out(w *workload.Workload, local, peer string, proto Proto) *Observation {
	return &Observation{Workload: w, Dir: Outbound, Proto: proto, Local: ap(local), Peer: ap(peer)}
}

func in(w *workload.Workload, local, peer string, proto Proto) *Observation {
	return &Observation{Workload: w, Dir: Inbound, Proto: proto, Local: ap(local), Peer: ap(peer)}
}

// flowsOf renders a snapshot's flows as "src -> dst port/proto dir count".
func flowsOf(s *Snapshot) []string {
	var got []string
	for _, f := range s.Flows {
		line := fmt.Sprintf("%s -> %s %d/%s %s x%d", f.Src.ID, f.Dst.ID, f.Port, f.Proto, f.Dir, f.Count)
		if f.Scan != nil {
			line += fmt.Sprintf(" scan(ports=%d addrs=%d)", f.Scan.Ports, f.Scan.Addrs)
		}
		got = append(got, line)
	}
	return got
}

func sameLines(t *testing.T, got, want []string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("flows:\n got %q\nwant %q", got, want)
	}
}

// TestClientServerBothEnds: the client's connects and the server's
// accepts of the same connections resolve to one pair of workloads, each
// end's view kept apart by direction; times and counts merge over the
// client's ephemeral ports.
func TestClientServerBothEnds(t *testing.T) {
	a, clk := newAgg(t, Config{}, nil)
	a.Node().Listen(Listener{Workload: server, Addr: ap("0.0.0.0:8080"), Proto: TCP, PID: 20, Process: "api"})
	first := clk.Now()
	for i := range 3 {
		port := 40000 + i
		a.Observe(out(client, fmt.Sprintf("10.244.0.5:%d", port), "10.244.0.9:8080", TCP))
		a.Observe(in(server, "10.244.0.9:8080", fmt.Sprintf("10.244.0.5:%d", port), TCP))
		clk.Add(time.Second)
	}
	s := a.Snapshot()
	sameLines(t, flowsOf(s), []string{
		client.ID + " -> " + server.ID + " 8080/tcp outbound x3",
		client.ID + " -> " + server.ID + " 8080/tcp inbound x3",
	})
	f := s.Flows[0]
	if !f.First.Equal(first) || !f.Last.Equal(first.Add(2*time.Second)) {
		t.Errorf("first %v last %v, want %v and 2s later", f.First, f.Last, first)
	}
	if len(f.Peers) != 1 || f.Peers[0] != netip.MustParseAddr("10.244.0.9") {
		t.Errorf("peers %v", f.Peers)
	}
	if len(s.Listeners) != 1 || s.Listeners[0].Workload != server || s.Listeners[0].Addr.Port() != 8080 {
		t.Errorf("listeners %+v", s.Listeners)
	}
	if got := s.Addresses[client.ID]; len(got) != 1 || got[0].String() != "10.244.0.5" {
		t.Errorf("client addresses %v", got)
	}
}

// TestLoopback: a host client reaches a host server on loopback; the
// server's accept names the client through the client's own connect. A
// container's loopback is its own: a host listener does not answer it.
func TestLoopback(t *testing.T) {
	a, _ := newAgg(t, Config{}, nil)
	a.Node().Listen(Listener{Workload: hostWl, Addr: ap("127.0.0.1:8080"), Proto: TCP, PID: 30})
	a.Observe(out(hostCl, "127.0.0.1:50000", "127.0.0.1:8080", TCP))
	a.Observe(in(hostWl, "127.0.0.1:8080", "127.0.0.1:50000", TCP))
	a.Observe(out(client, "127.0.0.1:50001", "127.0.0.1:8080", TCP))
	sameLines(t, flowsOf(a.Snapshot()), []string{
		hostCl.ID + " -> " + hostWl.ID + " 8080/tcp outbound x1",
		hostCl.ID + " -> " + hostWl.ID + " 8080/tcp inbound x1",
		client.ID + " -> local:loopback 8080/tcp outbound x1",
	})
}

// TestExternalEndpoints: an address is named by a Service, by the DNS
// answer the workload received, by a configured network, or grouped by
// its /24; an inbound client from outside is grouped the same way.
func TestExternalEndpoints(t *testing.T) {
	clk := newClock()
	names := NewNameTable(time.Hour, 0, clk.Now)
	names.AddAnswer(client.ID, "API.Example.com.", []netip.Addr{netip.MustParseAddr("93.184.216.34")}, 30*time.Second)
	names.SetService(netip.MustParseAddr("10.96.0.10"), "kube-system", "kube-dns")
	a, err := New(Config{Networks: []Network{{Name: "office", CIDR: "192.0.2.0/24"}}}, Options{Now: clk.Now, Names: names})
	if err != nil {
		t.Fatal(err)
	}
	a.Observe(out(client, "10.244.0.5:40000", "93.184.216.34:443", TCP))
	a.Observe(out(client, "10.244.0.5:40001", "10.96.0.10:53", UDP))
	a.Observe(out(client, "10.244.0.5:40002", "198.51.100.7:443", TCP))
	a.Observe(out(client, "10.244.0.5:40003", "198.51.100.9:443", TCP))
	a.Observe(in(server, "10.244.0.9:8080", "192.0.2.44:50000", TCP))
	s := a.Snapshot()
	sameLines(t, flowsOf(s), []string{
		client.ID + " -> dns:api.example.com 443/tcp outbound x1",
		client.ID + " -> net:198.51.100.0/24 443/tcp outbound x2",
		client.ID + " -> svc:kube-system/kube-dns 53/udp outbound x1",
		"net:office -> " + server.ID + " 8080/tcp inbound x1",
	})
	for _, f := range s.Flows {
		if f.Dst.ID == "net:198.51.100.0/24" && (len(f.Peers) != 2 || f.Dst.Scope != "public") {
			t.Errorf("grouped flow: peers %v scope %q", f.Peers, f.Dst.Scope)
		}
	}
	// The DNS answer outlives its own TTL (30s) up to the table's
	// minimum, then the address falls back to its network.
	clk.Add(2 * time.Hour)
	if _, ok := names.Name(client.ID, netip.MustParseAddr("93.184.216.34")); ok {
		t.Error("answer did not expire")
	}
}

// TestPortScanCollapses: past scan_ports distinct ports of one address,
// the workload's flows to it become one flow flagged as a scan, which
// keeps counting without growing.
func TestPortScanCollapses(t *testing.T) {
	a, _ := newAgg(t, Config{ScanPorts: 10}, nil)
	a.Observe(out(client, "10.244.0.5:40000", "10.0.0.1:443", TCP)) // another address: untouched
	for p := 1; p <= 50; p++ {
		o := out(client, "10.244.0.5:40000", fmt.Sprintf("10.0.0.7:%d", p), TCP)
		o.Failed = true
		a.Observe(o)
	}
	a.Observe(out(client, "10.244.0.5:40000", "10.0.0.7:22", TCP)) // again
	sameLines(t, flowsOf(a.Snapshot()), []string{
		client.ID + " -> net:10.0.0.0/24 0/tcp outbound x51 scan(ports=50 addrs=0)",
		client.ID + " -> net:10.0.0.0/24 443/tcp outbound x1",
	})
	if st := a.Stats(); st.Flows != 2 || st.Scans != 1 {
		t.Errorf("stats %+v, want 2 flows and 1 scan", st)
	}
	if f := a.Snapshot().Flows[0]; f.Failed != 50 {
		t.Errorf("failed %d, want 50", f.Failed)
	}
}

// TestAddressScanCollapses: one port of many addresses.
func TestAddressScanCollapses(t *testing.T) {
	a, _ := newAgg(t, Config{ScanAddrs: 20}, nil)
	for i := range 300 {
		a.Observe(out(client, "10.244.0.5:40000", fmt.Sprintf("10.1.%d.%d:22", i/200, i%200+1), TCP))
	}
	sameLines(t, flowsOf(a.Snapshot()), []string{
		client.ID + " -> net:any 22/tcp outbound x300 scan(ports=0 addrs=300)",
	})
	if st := a.Stats(); st.Flows != 1 {
		t.Errorf("flows %d, want 1", st.Flows)
	}
}

// TestBounds: the per-workload cap refuses a workload's new flows and
// counts them, without touching other workloads; the global cap refuses
// everyone's.
func TestBounds(t *testing.T) {
	a, _ := newAgg(t, Config{MaxPerWorkload: 5, MaxFlows: 8, ScanPorts: 1000, ScanAddrs: 1000}, nil)
	for i := range 10 {
		a.Observe(out(client, "10.244.0.5:40000", fmt.Sprintf("10.0.%d.1:80", i), TCP))
	}
	if got := a.Dropped(client.ID); got != 5 {
		t.Errorf("client dropped %d, want 5", got)
	}
	for i := range 5 {
		a.Observe(out(server, "10.244.0.9:40000", fmt.Sprintf("10.0.%d.1:80", i), TCP))
	}
	if st := a.Stats(); st.Flows != 8 || st.Dropped != 7 {
		t.Errorf("stats %+v, want 8 flows, 7 dropped", st)
	}
	// A known flow still counts when the workload is full.
	if !a.Observe(out(client, "10.244.0.5:40000", "10.0.0.1:80", TCP)) {
		t.Error("a known flow was refused")
	}
}

// TestExpiry: flows not seen for the TTL go, and their room is free
// again; flows seen recently stay.
func TestExpiry(t *testing.T) {
	a, clk := newAgg(t, Config{TTL: time.Minute, MaxPerWorkload: 2, ScanPorts: 1000}, nil)
	a.Observe(out(client, "10.244.0.5:1", "10.0.0.1:80", TCP))
	a.Observe(out(client, "10.244.0.5:1", "10.0.0.2:80", TCP))
	clk.Add(50 * time.Second)
	a.Observe(out(client, "10.244.0.5:1", "10.0.0.2:80", TCP))
	clk.Add(20 * time.Second)
	a.Sweep()
	sameLines(t, flowsOf(a.Snapshot()), []string{client.ID + " -> net:10.0.0.0/24 80/tcp outbound x2"})
	if !a.Observe(out(client, "10.244.0.5:1", "10.0.0.3:80", TCP)) {
		t.Error("expired flow's room was not freed")
	}
	clk.Add(2 * time.Minute)
	a.Sweep()
	if st := a.Stats(); st.Flows != 0 || st.Workloads != 0 || st.Expired != 3 {
		t.Errorf("stats after expiry %+v", st)
	}
}

// TestInvalid: observations the map cannot place are counted, not kept.
func TestInvalid(t *testing.T) {
	a, _ := newAgg(t, Config{}, nil)
	for _, o := range []*Observation{
		{Dir: Outbound, Proto: TCP, Peer: ap("10.0.0.1:80")},
		{Workload: client, Dir: Outbound, Proto: TCP, Peer: ap("10.0.0.1:0")},
		{Workload: client, Dir: Outbound, Proto: TCP},
		{Workload: client, Dir: Outbound, Proto: TCP, Peer: ap("0.0.0.0:80")},
		{Workload: client, Proto: TCP, Peer: ap("10.0.0.1:80")},
	} {
		if a.Observe(o) {
			t.Errorf("%+v accepted", o)
		}
	}
	if st := a.Stats(); st.Invalid != 5 || st.Flows != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestConcurrent runs observers, sweeps and snapshots together (for
// -race) and checks that no observation of a kept flow is lost.
func TestConcurrent(t *testing.T) {
	a, _ := newAgg(t, Config{ScanPorts: 16}, nil)
	var wg sync.WaitGroup
	const n = 2000
	for g := range 4 {
		wg.Go(func() {
			for i := range n {
				a.Observe(out(client, "10.244.0.5:1", fmt.Sprintf("10.0.%d.1:%d", g, 80+i%40), TCP))
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			a.Snapshot()
			a.Sweep()
		}
	})
	wg.Wait()
	var total uint64
	for _, f := range a.Snapshot().Flows {
		total += f.Count
	}
	if total != 4*n {
		t.Errorf("counted %d observations, want %d", total, 4*n)
	}
}
