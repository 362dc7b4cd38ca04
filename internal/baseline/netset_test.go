package baseline

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
)

func peerItem(addr string, port int, proto string) Item {
	a := netip.MustParseAddr(addr).Unmap()
	return Item{Dim: DimOutbound, A: netip.PrefixFrom(a, a.BitLen()).String(), B: fmt.Sprintf("%s/%d", proto, port)}
}

func TestPeerSetFoldsNetworks(t *testing.T) {
	s := emptyPeers
	lim := Limits{Cap: 64, FanOut: 3}
	for i := 1; i <= 4; i++ {
		s, _, _ = s.with(DimOutbound, []Item{peerItem(fmt.Sprintf("10.1.2.%d", i), 443, "tcp")}, lim)
	}
	items := s.items(DimOutbound)
	if len(items) != 1 || items[0].A != "10.1.2.0/24" || items[0].B != "tcp/443" {
		t.Fatalf("four addresses of one /24 with fan_out 3: %v", items)
	}
	if !s.Known(netip.MustParseAddr("10.1.2.200"), 443, ProtoTCP, "") || s.Known(netip.MustParseAddr("10.1.2.200"), 80, ProtoTCP, "") {
		t.Fatal("the /24 entry matches wrongly")
	}
	// IPv6 folds by /64.
	for i := 1; i <= 4; i++ {
		s, _, _ = s.with(DimOutbound, []Item{peerItem(fmt.Sprintf("2001:db8::%x", i), 443, "tcp")}, lim)
	}
	if !s.Known(netip.MustParseAddr("2001:db8::ffff"), 443, ProtoTCP, "") {
		t.Fatalf("IPv6 not folded into its /64: %v", s.items(DimOutbound))
	}
	// Names are kept beside addresses.
	s, _, _ = s.with(DimOutbound, []Item{{Dim: DimOutbound, A: "dns:api.example.com", B: "tcp/443"}}, lim)
	if !s.Known(netip.MustParseAddr("192.0.2.1"), 443, ProtoTCP, "api.example.com") {
		t.Fatal("a known name on a new address is not known")
	}
}

func TestPeerSetCap(t *testing.T) {
	s := emptyPeers
	lim := Limits{Cap: 8, FanOut: 0}
	var seen []netip.Addr
	for i := range 200 {
		a := netip.AddrFrom4([4]byte{byte(i * 37), byte(i * 11), byte(i), 1})
		seen = append(seen, a)
		s, _, _ = s.with(DimOutbound, []Item{peerItem(a.String(), 1000+i%3, "tcp")}, lim)
		if s.Len() > lim.Cap {
			t.Fatalf("step %d: %d entries: %v", i, s.Len(), s.items(DimOutbound))
		}
	}
	for i, a := range seen {
		if !s.Known(a, uint16(1000+i%3), ProtoTCP, "") {
			t.Fatalf("%v:%d no longer known: %v", a, 1000+i%3, s.items(DimOutbound))
		}
	}
}

func TestPeerSetKnownDoesNotAllocate(t *testing.T) {
	s, _, _ := emptyPeers.with(DimOutbound, []Item{peerItem("10.0.0.1", 443, "tcp"), {Dim: DimOutbound, A: "10.2.0.0/16", B: "udp/*"}}, Limits{Cap: 10})
	for _, a := range []string{"10.0.0.1", "10.2.3.4", "192.0.2.1", "::ffff:10.0.0.1"} {
		addr := netip.MustParseAddr(a)
		if n := testing.AllocsPerRun(100, func() { s.Known(addr, 443, ProtoTCP, "") }); n != 0 {
			t.Errorf("Known(%s) allocates %v times", a, n)
		}
	}
	if !s.Known(netip.MustParseAddr("::ffff:10.0.0.1"), 443, ProtoTCP, "") {
		t.Error("an IPv4-mapped address is not its IPv4 address")
	}
}

func TestPortSet(t *testing.T) {
	s := emptyPorts
	lim := Limits{Cap: 3}
	for _, p := range []string{"80", "8080", "9090", "9091"} {
		s, _, _ = s.with([]Item{{Dim: DimListen, A: "tcp", B: p}}, lim)
	}
	if !s.Known(ProtoTCP, 80) || !s.Known(ProtoTCP, 30000) || s.Known(ProtoTCP, 22) || s.Known(ProtoUDP, 8080) {
		t.Fatalf("ports: %v", s.items())
	}
	if len(s.items()) > 3 {
		t.Fatalf("over cap: %v", s.items())
	}
}

// FuzzPeerSet checks the peer generaliser's promises: everything learned
// stays known, and the set never exceeds its cap.
func FuzzPeerSet(f *testing.F) {
	f.Add([]byte{10, 0, 0, 1, 1, 187, 10, 0, 0, 2, 1, 187, 10, 0, 1, 2, 0, 80}, uint8(3), uint8(2))
	f.Add([]byte{192, 168, 1, 1, 0, 53, 192, 168, 1, 2, 0, 53, 192, 168, 1, 3, 0, 53, 192, 168, 1, 4, 0, 53}, uint8(2), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, capacity, fanOut uint8) {
		lim := Limits{Cap: int(capacity%10) + 2, FanOut: int(fanOut % 5)}
		s := emptyPeers
		type obs struct {
			a     netip.Addr
			port  uint16
			proto Proto
		}
		var seen []obs
		for len(data) >= 6 {
			var a netip.Addr
			if data[0]&1 == 1 && len(data) >= 18 {
				a = netip.AddrFrom16([16]byte(data[:16]))
				data = data[16:]
			} else {
				a = netip.AddrFrom4([4]byte(data[:4]))
				data = data[4:]
			}
			port := binary.BigEndian.Uint16(data)
			data = data[2:]
			if port == 0 {
				port = 1
			}
			proto := ProtoTCP
			if port%2 == 0 {
				proto = ProtoUDP
			}
			a = a.Unmap()
			s, _, _ = s.with(DimOutbound, []Item{peerItem(a.String(), int(port), proto.String())}, lim)
			seen = append(seen, obs{a, port, proto})
			if s.Len() > lim.Cap {
				t.Fatalf("%d entries with cap %d: %v", s.Len(), lim.Cap, s.items(DimOutbound))
			}
		}
		for _, o := range seen {
			if !s.Known(o.a, o.port, o.proto, "") {
				t.Fatalf("%v:%d/%v not known: %v", o.a, o.port, o.proto, s.items(DimOutbound))
			}
		}
		// The items round-trip: a set rebuilt from its items knows the same.
		r, _, _ := emptyPeers.with(DimOutbound, s.items(DimOutbound), Limits{Cap: 1 << 16})
		for _, o := range seen {
			if !r.Known(o.a, o.port, o.proto, "") {
				t.Fatalf("%v:%d/%v lost through items: %v", o.a, o.port, o.proto, s.items(DimOutbound))
			}
		}
	})
}
