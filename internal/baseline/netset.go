package baseline

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// peer is one entry of a PeerSet: a network, a port (0: any) and a
// protocol.
type peer struct {
	prefix netip.Prefix
	port   uint16
	proto  Proto
}

// dnsPeer is a peer known by name.
type dnsPeer struct {
	name  string
	port  uint16
	proto Proto
}

// PeerSet is an immutable set of network peers: single addresses with a
// port and protocol in a map, wider entries (networks, any port, any
// protocol) in a short list, and DNS names. Known does not allocate.
type PeerSet struct {
	hosts map[peer]struct{}
	nets  []peer
	names map[dnsPeer]struct{}
}

var emptyPeers = &PeerSet{}

// Known reports whether a connection to or from addr on port over proto
// (with the peer's DNS name, "" when unknown) is in the set.
func (s *PeerSet) Known(addr netip.Addr, port uint16, proto Proto, name string) bool {
	addr = addr.Unmap()
	if _, ok := s.hosts[peer{netip.PrefixFrom(addr, addr.BitLen()), port, proto}]; ok {
		return true
	}
	for _, e := range s.nets {
		if e.covers(addr, port, proto) {
			return true
		}
	}
	if name != "" && len(s.names) > 0 {
		if _, ok := s.names[dnsPeer{name, port, proto}]; ok {
			return true
		}
	}
	return false
}

func (e peer) covers(addr netip.Addr, port uint16, proto Proto) bool {
	return (e.port == 0 || e.port == port) && (e.proto == ProtoAny || e.proto == proto) &&
		(!e.prefix.IsValid() || e.prefix.Contains(addr))
}

// coversPeer reports whether e covers every connection o covers.
func (e peer) coversPeer(o peer) bool {
	return (e.port == 0 || e.port == o.port) && (e.proto == ProtoAny || e.proto == o.proto) &&
		e.prefix.Addr().BitLen() == o.prefix.Addr().BitLen() && e.prefix.Bits() <= o.prefix.Bits() &&
		e.prefix.Contains(o.prefix.Addr())
}

// Len returns the number of entries, names included.
func (s *PeerSet) Len() int { return len(s.hosts) + len(s.nets) + len(s.names) }

// items returns the set as items of dimension d, sorted.
func (s *PeerSet) items(d Dimension) []Item {
	out := make([]Item, 0, s.Len())
	for e := range s.hosts {
		out = append(out, e.item(d))
	}
	for _, e := range s.nets {
		out = append(out, e.item(d))
	}
	for n := range s.names {
		out = append(out, Item{Dim: d, A: "dns:" + n.name, B: portProto(n.proto, n.port)})
	}
	slices.SortFunc(out, func(a, b Item) int { return strings.Compare(a.A+" "+a.B, b.A+" "+b.B) })
	return out
}

func (e peer) item(d Dimension) Item {
	return Item{Dim: d, A: e.prefix.String(), B: portProto(e.proto, e.port)}
}

func portProto(p Proto, port uint16) string {
	if port == 0 {
		return p.String() + "/*"
	}
	return p.String() + "/" + strconv.Itoa(int(port))
}

// parsePeerItem reads an item of a peer dimension. Exactly one of the
// returned peer and name is set.
func parsePeerItem(it Item) (peer, string, error) {
	ps, port, _ := strings.Cut(it.B, "/")
	proto, ok := ParseProto(ps)
	if !ok {
		return peer{}, "", fmt.Errorf("protocol %q: want tcp, udp or any", ps)
	}
	var n uint16
	if port != "*" {
		v, err := strconv.ParseUint(port, 10, 16)
		if err != nil || v == 0 {
			return peer{}, "", fmt.Errorf("port %q: want 1-65535 or *", port)
		}
		n = uint16(v)
	}
	if name, ok := strings.CutPrefix(it.A, "dns:"); ok {
		if name == "" || strings.ContainsAny(name, " /") {
			return peer{}, "", fmt.Errorf("DNS name %q is not a host name", name)
		}
		return peer{port: n, proto: proto}, name, nil
	}
	pfx, err := netip.ParsePrefix(it.A)
	if err != nil {
		a, aerr := netip.ParseAddr(it.A)
		if aerr != nil {
			return peer{}, "", fmt.Errorf("peer %q: want an address, a CIDR or dns:<name>", it.A)
		}
		pfx = netip.PrefixFrom(a, a.BitLen())
	}
	if pfx.Addr().Is4In6() {
		a := pfx.Addr().Unmap()
		pfx = netip.PrefixFrom(a, max(pfx.Bits()-96, 0))
	}
	return peer{prefix: pfx.Masked(), port: n, proto: proto}, "", nil
}

// with learns adds (items of dimension d) within lim and returns the new
// set and the items it added and removed. Lim.FanOut is how many
// addresses one /24 (IPv4) or /64 (IPv6) may hold, for one port and
// protocol, before they become the network; past Lim.Cap entries the
// group of one port and protocol with most entries is widened a step
// (/24, /16, /8, any for IPv4; /64, /48, /32, any for IPv6), then ports
// become any, then protocols. Names are kept while there is room and
// never widen: an address entry always covers what a name was learned
// with.
func (s *PeerSet) with(d Dimension, adds []Item, lim Limits) (*PeerSet, []Item, []Item) {
	w := peerWork{entries: s.entries(), names: make(map[dnsPeer]struct{}, len(s.names))}
	for n := range s.names {
		w.names[n] = struct{}{}
	}
	cur := s
	for _, it := range adds {
		p, name, err := parsePeerItem(it)
		if err != nil {
			continue
		}
		if name != "" {
			k := dnsPeer{name, p.port, p.proto}
			if _, ok := w.names[k]; !ok && len(w.names) < lim.Cap {
				w.names[k] = struct{}{}
				cur = nil
			}
			continue
		}
		if w.covered(p) {
			continue
		}
		w.entries = append(w.entries, p)
		w.fold(p, lim.FanOut)
		for len(w.entries) > max(lim.Cap, 2) && w.widen() {
		}
		cur = nil
	}
	if cur != nil {
		return s, nil, nil
	}
	next := w.set()
	added, removed := diffItems(s.items(d), next.items(d))
	return next, added, removed
}

func (s *PeerSet) entries() []peer {
	out := make([]peer, 0, len(s.hosts)+len(s.nets))
	for e := range s.hosts {
		out = append(out, e)
	}
	return append(out, s.nets...)
}

type peerWork struct {
	entries []peer
	names   map[dnsPeer]struct{}
}

func (w *peerWork) covered(p peer) bool {
	for _, e := range w.entries {
		if e.coversPeer(p) {
			return true
		}
	}
	return false
}

// fold replaces the addresses of p's /24 or /64 (same port and protocol)
// by the network when there are more than fanOut of them.
func (w *peerWork) fold(p peer, fanOut int) {
	if fanOut <= 0 || !p.prefix.IsSingleIP() {
		return
	}
	bits := 24
	if p.prefix.Addr().Is6() {
		bits = 64
	}
	net, _ := p.prefix.Addr().Prefix(bits)
	group := peer{prefix: net, port: p.port, proto: p.proto}
	n := 0
	for _, e := range w.entries {
		if group.coversPeer(e) {
			n++
		}
	}
	if n > fanOut {
		w.replaceCovered(group)
	}
}

// replaceCovered drops every entry g covers and adds g.
func (w *peerWork) replaceCovered(g peer) {
	w.entries = slices.DeleteFunc(w.entries, func(e peer) bool { return g.coversPeer(e) })
	w.entries = append(w.entries, g)
}

var widenSteps = map[int][]int{4: {24, 16, 8, 0}, 6: {64, 48, 32, 0}}

// widen makes the set smaller by one generalisation step; it returns
// false when nothing is left to widen.
func (w *peerWork) widen() bool {
	type group struct {
		port  uint16
		proto Proto
	}
	counts := map[group]int{}
	var top group
	for _, e := range w.entries {
		g := group{e.port, e.proto}
		counts[g]++
		if counts[g] > counts[top] || counts[g] == counts[top] && (g.port < top.port || g.port == top.port && g.proto < top.proto) {
			top = g
		}
	}
	// Widen the group's narrowest prefixes one step.
	narrowest, fam := -1, 0
	for _, e := range w.entries {
		if (group{e.port, e.proto}) == top && e.prefix.Bits() > narrowest && e.prefix.Bits() > 0 {
			narrowest, fam = e.prefix.Bits(), 4
			if e.prefix.Addr().Is6() {
				fam = 6
			}
		}
	}
	if narrowest > 0 {
		next := 0
		for _, b := range widenSteps[fam] {
			if b < narrowest {
				next = b
				break
			}
		}
		for _, e := range slices.Clone(w.entries) {
			if (group{e.port, e.proto}) == top && e.prefix.Bits() == narrowest && e.prefix.Addr().Is6() == (fam == 6) {
				net, _ := e.prefix.Addr().Prefix(next)
				w.replaceCovered(peer{net, e.port, e.proto})
			}
		}
		return true
	}
	// Every entry of the group is a whole family: forget a port, then a
	// protocol.
	for _, e := range w.entries {
		if e.port != 0 {
			w.replaceCovered(peer{e.prefix, 0, e.proto})
			return true
		}
	}
	for _, e := range w.entries {
		if e.proto != ProtoAny {
			w.replaceCovered(peer{e.prefix, 0, ProtoAny})
			return true
		}
	}
	return false
}

func (w *peerWork) set() *PeerSet {
	s := &PeerSet{}
	for _, e := range w.entries {
		if e.prefix.IsSingleIP() && e.port != 0 && e.proto != ProtoAny {
			if s.hosts == nil {
				s.hosts = make(map[peer]struct{})
			}
			s.hosts[e] = struct{}{}
		} else {
			s.nets = append(s.nets, e)
		}
	}
	if len(w.names) > 0 {
		s.names = w.names
	}
	return s
}

// diffItems returns what is in b and not in a, and what is in a and not
// in b.
func diffItems(a, b []Item) (onlyB, onlyA []Item) {
	in := make(map[Item]bool, len(a))
	for _, it := range a {
		in[it] = true
	}
	for _, it := range b {
		if !in[it] {
			onlyB = append(onlyB, it)
		}
		delete(in, it)
	}
	for _, it := range a {
		if in[it] {
			onlyA = append(onlyA, it)
		}
	}
	return onlyB, onlyA
}
