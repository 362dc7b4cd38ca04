package baseline

import (
	"net/netip"
	"testing"
)

func TestKnownPeer(t *testing.T) {
	h := newHarness(t, nil)
	e := h.e
	srv := netip.MustParseAddr("10.0.0.5")
	cli := netip.MustParseAddr("10.244.1.7")
	e.Observe(web, &Fact{Dim: DimOutbound, Addr: srv, Port: 443, Proto: ProtoTCP}, nil)
	e.Observe(web, &Fact{Dim: DimInbound, Addr: cli, Port: 8080, Proto: ProtoTCP}, nil)
	e.Flush()
	for _, c := range []struct {
		inbound bool
		addr    netip.Addr
		port    uint16
		proto   Proto
		known   bool
	}{
		{false, srv, 443, ProtoTCP, true},
		{false, srv, 80, ProtoTCP, false},
		{false, srv, 443, ProtoUDP, false},
		{true, cli, 8080, ProtoTCP, true},
		{true, srv, 8080, ProtoTCP, false},
		{true, cli, 443, ProtoTCP, false},
	} {
		known, m, ok := e.KnownPeer(web.ID, c.inbound, c.addr, c.port, c.proto)
		if !ok || m != Learn || known != c.known {
			t.Errorf("KnownPeer(inbound=%v %v:%d/%v) = %v %v %v, want %v learn true", c.inbound, c.addr, c.port, c.proto, known, m, ok, c.known)
		}
	}
	if _, _, ok := e.KnownPeer("k8s/x/pod/y/z", false, srv, 443, ProtoTCP); ok {
		t.Error("a workload without a baseline answered")
	}
	h2 := newHarness(t, func(c *Config) { c.Dimensions.Outbound.Enabled = false })
	h2.e.Observe(web, &Fact{Dim: DimInbound, Addr: cli, Port: 8080, Proto: ProtoTCP}, nil)
	if _, _, ok := h2.e.KnownPeer(web.ID, false, srv, 443, ProtoTCP); ok {
		t.Error("a disabled dimension answered")
	}
}
