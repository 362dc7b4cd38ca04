package flows

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vigilsec/vigil/internal/workload"
)

// Snapshot is the map at one moment: every flow resolved and merged by
// its ends, and the listening sockets.
type Snapshot struct {
	Time      time.Time
	Flows     []Flow
	Listeners []Listener
	// Workloads are the workloads with flows or listening sockets.
	Workloads map[string]*workload.Workload
	// Addresses are the addresses of this node each workload was seen
	// using, by workload id.
	Addresses map[string][]netip.Addr
}

// flowKey identifies a resolved flow.
type flowKey struct {
	src, dst string
	port     uint16
	proto    Proto
	dir      Direction
}

// Snapshot resolves and merges the flows held now. It allocates in
// proportion to the number of flows and takes each shard's read lock
// briefly; the event path keeps running.
func (a *Aggregator) Snapshot() *Snapshot {
	raws := a.raws()
	s := &Snapshot{Time: a.opts.Now(), Listeners: a.node.Listeners(), Workloads: map[string]*workload.Workload{},
		Addresses: map[string][]netip.Addr{}}
	r := newResolver(a, raws, s.Listeners)
	merged := make(map[flowKey]*Flow, len(raws))
	var order []*Flow
	for i := range raws {
		x := &raws[i]
		s.Workloads[x.w.ID] = x.w
		src, dst := r.resolve(x)
		fk := flowKey{src.ID, dst.ID, x.k.port, x.k.proto, x.k.dir}
		f := merged[fk]
		if f == nil {
			f = &Flow{Src: src, Dst: dst, Port: x.k.port, Proto: x.k.proto, Dir: x.k.dir,
				First: time.Unix(0, x.first), Last: time.Unix(0, x.last)}
			merged[fk] = f
			order = append(order, f)
		}
		f.Count += x.count
		f.Failed += x.failed
		if t := time.Unix(0, x.first); t.Before(f.First) {
			f.First = t
		}
		if t := time.Unix(0, x.last); t.After(f.Last) {
			f.Last = t
		}
		if x.scan != nil {
			if f.Scan == nil {
				f.Scan = &Scan{}
			}
			f.Scan.Ports += x.scan.Ports
			f.Scan.Addrs += x.scan.Addrs
			f.Scan.Capped = f.Scan.Capped || x.scan.Capped
		}
		if x.k.peer.IsValid() {
			f.Peers = append(f.Peers, x.k.peer)
		}
	}
	slices.SortFunc(order, compareFlows)
	s.Flows = make([]Flow, len(order))
	for i, f := range order {
		slices.SortFunc(f.Peers, netip.Addr.Compare)
		f.Peers = slices.Compact(f.Peers)
		if len(f.Peers) > MaxPeers {
			f.MorePeers = len(f.Peers) - MaxPeers
			f.Peers = slices.Clip(f.Peers[:MaxPeers])
		}
		s.Flows[i] = *f
	}
	for _, l := range s.Listeners {
		s.Workloads[l.Workload.ID] = l.Workload
	}
	for addr, ws := range r.owners {
		for _, w := range ws {
			s.Addresses[w.ID] = append(s.Addresses[w.ID], addr)
		}
	}
	for _, as := range s.Addresses {
		slices.SortFunc(as, netip.Addr.Compare)
	}
	return s
}

func compareFlows(a, b *Flow) int {
	return cmp.Or(compareEndpoints(&a.Src, &b.Src), compareEndpoints(&a.Dst, &b.Dst), cmp.Compare(a.Port, b.Port),
		cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Dir, b.Dir))
}

// raws copies every entry.
func (a *Aggregator) raws() []raw {
	out := make([]raw, 0, a.total.Load())
	for i := range a.shards {
		sh := &a.shards[i]
		sh.mu.RLock()
		for k, e := range sh.m {
			x := raw{k: k, w: e.w, first: e.first}
			x.last, x.count, x.failed = e.totals()
			if e.scan != nil {
				x.scan = e.scan.summary()
			}
			out = append(out, x)
		}
		sh.mu.RUnlock()
	}
	// Map order is random; resolution picks the first candidate in
	// places, so the input order must not vary.
	slices.SortFunc(out, func(a, b raw) int {
		return cmp.Or(strings.Compare(a.k.wid, b.k.wid), a.k.local.Compare(b.k.local), a.k.peer.Compare(b.k.peer),
			cmp.Compare(a.k.port, b.k.port), cmp.Compare(a.k.proto, b.k.proto), cmp.Compare(a.k.dir, b.k.dir))
	})
	return out
}
