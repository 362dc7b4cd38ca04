package flows

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	"github.com/vigilsec/vigil/internal/workload"
)

// raw is a copy of one entry, taken for a snapshot.
type raw struct {
	k      key
	w      *workload.Workload
	first  int64
	last   int64
	count  uint64
	failed uint64
	scan   *Scan
}

type portKey struct {
	port  uint16
	proto Proto
}

// resolver turns raw peer addresses into endpoints from what is known
// when the map is taken.
type resolver struct {
	a      *Aggregator
	owners map[netip.Addr][]*workload.Workload
	listen map[portKey][]Listener
	// loopOut are the outbound flows to loopback, by port: the only
	// way to name the client of an inbound loopback flow.
	loopOut map[portKey][]*raw
	// outTo are the outbound flows by port, for choosing among the
	// several owners of a shared (host network) address.
	outTo map[portKey][]*raw
}

func newResolver(a *Aggregator, raws []raw, listeners []Listener) *resolver {
	r := &resolver{a: a, owners: map[netip.Addr][]*workload.Workload{}, listen: map[portKey][]Listener{},
		loopOut: map[portKey][]*raw{}, outTo: map[portKey][]*raw{}}
	for addr, w := range a.node.addresses() {
		r.own(addr, w)
	}
	for _, l := range listeners {
		pk := portKey{l.Addr.Port(), l.Proto}
		r.listen[pk] = append(r.listen[pk], l)
		r.own(l.Addr.Addr(), l.Workload)
	}
	for i := range raws {
		x := &raws[i]
		r.own(x.k.local, x.w)
		if x.k.dir == Outbound && x.k.peer.IsValid() {
			pk := portKey{x.k.port, x.k.proto}
			r.outTo[pk] = append(r.outTo[pk], x)
			if x.k.peer.IsLoopback() {
				r.loopOut[pk] = append(r.loopOut[pk], x)
			}
		}
	}
	for _, ws := range r.owners {
		slices.SortFunc(ws, func(a, b *workload.Workload) int { return strings.Compare(a.ID, b.ID) })
	}
	return r
}

// own records that w uses addr locally, for addresses that name one
// place: not loopback, not a wildcard.
func (r *resolver) own(addr netip.Addr, w *workload.Workload) {
	if !addr.IsValid() || addr.IsLoopback() || addr.IsUnspecified() || addr.IsMulticast() {
		return
	}
	for _, o := range r.owners[addr] {
		if o.ID == w.ID {
			return
		}
	}
	r.owners[addr] = append(r.owners[addr], w)
}

// server resolves the destination addr:port of a flow from workload from.
func (r *resolver) server(from *workload.Workload, addr netip.Addr, port uint16, proto Proto) Endpoint {
	if addr.IsLoopback() {
		if l, ok := r.loopbackListener(from, port, proto); ok {
			return workloadEndpoint(l.Workload)
		}
		return loopbackEndpoint()
	}
	owners := r.owners[addr]
	for _, l := range r.listen[portKey{port, proto}] {
		if l.Addr.Addr() == addr {
			return workloadEndpoint(l.Workload)
		}
		if l.Addr.Addr().IsUnspecified() && slices.Contains(owners, l.Workload) {
			return workloadEndpoint(l.Workload)
		}
	}
	if len(owners) > 0 {
		return workloadEndpoint(owners[0])
	}
	return r.external(from.ID, addr)
}

// loopbackListener finds who listens on loopback port for a client in
// from: only listeners that can share from's network namespace count,
// which is the same workload, the same pod owner, or the host for a
// host client.
func (r *resolver) loopbackListener(from *workload.Workload, port uint16, proto Proto) (Listener, bool) {
	var best Listener
	rank := 0
	for _, l := range r.listen[portKey{port, proto}] {
		a := l.Addr.Addr()
		if !a.IsLoopback() && !a.IsUnspecified() {
			continue
		}
		w, n := l.Workload, 0
		switch {
		case w.ID == from.ID:
			n = 3
		case samePod(w, from):
			n = 2
		case w.IsHost() && from.IsHost():
			n = 1
		}
		if n > rank || (n == rank && n > 0 && w.ID < best.Workload.ID) {
			best, rank = l, n
		}
	}
	return best, rank > 0
}

func samePod(a, b *workload.Workload) bool {
	return a.Kind == workload.KindK8s && b.Kind == workload.KindK8s && a.Namespace == b.Namespace &&
		a.OwnerKind == b.OwnerKind && a.Owner == b.Owner
}

// client resolves the source address of an inbound flow to workload to
// on port.
func (r *resolver) client(to *workload.Workload, addr netip.Addr, port uint16, proto Proto) Endpoint {
	pk := portKey{port, proto}
	if addr.IsLoopback() {
		for _, x := range r.loopOut[pk] {
			if e := r.server(x.w, x.k.peer, port, proto); e.ID == to.ID {
				return workloadEndpoint(x.w)
			}
		}
		return loopbackEndpoint()
	}
	owners := r.owners[addr]
	if len(owners) > 1 {
		for _, x := range r.outTo[pk] {
			if slices.Contains(owners, x.w) && x.k.local == addr {
				return workloadEndpoint(x.w)
			}
		}
	}
	if len(owners) > 0 {
		return workloadEndpoint(owners[0])
	}
	return r.external(to.ID, addr)
}

// external names or groups an address that is not on this node.
func (r *resolver) external(wid string, addr netip.Addr) Endpoint {
	e := Endpoint{Kind: KindExternal, Scope: scope(addr)}
	bits := r.a.cfg.GroupBits4
	if addr.Is6() {
		bits = r.a.cfg.GroupBits6
	}
	e.Network, _ = addr.Prefix(bits)
	var named *Network
	for i := range r.a.cfg.Networks {
		n := &r.a.cfg.Networks[i]
		if n.prefix.Contains(addr) && (named == nil || n.prefix.Bits() > named.prefix.Bits()) {
			named = n
		}
	}
	if named != nil {
		e.Network = named.prefix
	}
	if r.a.opts.Names != nil {
		if n, ok := r.a.opts.Names.Name(wid, addr); ok {
			e.Name = n.Host
			if n.Service {
				e.ID, e.NameKind = "svc:"+n.Host, "service"
			} else {
				e.ID, e.NameKind = "dns:"+n.Host, "dns"
			}
			return e
		}
	}
	if named != nil {
		e.ID, e.Name, e.NameKind = "net:"+named.Name, named.Name, "network"
		return e
	}
	e.ID = "net:" + e.Network.String()
	return e
}

func scope(a netip.Addr) string {
	switch {
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate() || a.IsLinkLocalUnicast():
		return "private"
	}
	return "public"
}

func workloadEndpoint(w *workload.Workload) Endpoint {
	return Endpoint{Kind: KindWorkload, ID: w.ID, Workload: w}
}

func loopbackEndpoint() Endpoint {
	return Endpoint{Kind: KindUnknown, ID: "local:loopback", Scope: "loopback"}
}

// anyEndpoint stands for the many addresses of an address scan.
func anyEndpoint() Endpoint {
	return Endpoint{Kind: KindExternal, ID: "net:any", Name: "many addresses", NameKind: "network"}
}

// resolve returns the ends of raw flow x.
func (r *resolver) resolve(x *raw) (src, dst Endpoint) {
	local := workloadEndpoint(x.w)
	if x.k.dir == Outbound {
		if !x.k.peer.IsValid() {
			return local, anyEndpoint()
		}
		return local, r.server(x.w, x.k.peer, x.k.port, x.k.proto)
	}
	if !x.k.peer.IsValid() {
		return anyEndpoint(), local
	}
	return r.client(x.w, x.k.peer, x.k.port, x.k.proto), local
}

func compareEndpoints(a, b *Endpoint) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), strings.Compare(a.ID, b.ID))
}
