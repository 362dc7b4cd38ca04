package flows

import (
	"net/netip"
	"sync"
)

// A scan is one source reaching many ports of one address, or one port
// of many addresses. Past Config.ScanPorts (ScanAddrs) such flows of a
// workload collapse into one aggregate whose key is the group's: the
// port-scan aggregate has port 0, the address-scan aggregate no peer.
// Later observations in the group count into the aggregate.

type scanKind uint8

const (
	scanPorts scanKind = iota + 1 // one peer, many ports
	scanAddrs                     // one port, many peers
)

// maxScanAddrs bounds the distinct addresses an address scan remembers.
const maxScanAddrs = 4096

// scanState counts what a scan aggregate collapsed.
type scanState struct {
	mu     sync.Mutex
	ports  *[1024]uint64 // bit per port, for a port scan
	nports int
	addrs  map[netip.Addr]struct{}
	capped bool
}

// peerGroup is the group of k for a port scan, and the key of its
// aggregate.
func peerGroup(k *key) key {
	g := *k
	g.port = 0
	return g
}

// portGroup is the group of k for an address scan, and the key of its
// aggregate.
func portGroup(k *key) key {
	g := *k
	g.peer = netip.Addr{}
	return g
}

// aggregate returns the scan aggregate k counts into, if any.
func (a *Aggregator) aggregate(h uint64, k *key) (*entry, scanKind) {
	g := peerGroup(k)
	if e := a.lookup(h, &g); e != nil {
		return e, scanPorts
	}
	g = portGroup(k)
	if e := a.lookup(h, &g); e != nil {
		return e, scanAddrs
	}
	return nil, 0
}

// note records k's port or peer in the aggregate.
func (s *scanState) note(k *key, kind scanKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if kind == scanPorts {
		if s.ports == nil {
			s.ports = new([1024]uint64)
		}
		w, b := k.port/64, uint64(1)<<(k.port%64)
		if s.ports[w]&b == 0 {
			s.ports[w] |= b
			s.nports++
		}
		return
	}
	if _, ok := s.addrs[k.peer]; ok {
		return
	}
	if len(s.addrs) >= maxScanAddrs {
		s.capped = true
		return
	}
	if s.addrs == nil {
		s.addrs = map[netip.Addr]struct{}{}
	}
	s.addrs[k.peer] = struct{}{}
}

func (s *scanState) summary() *Scan {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &Scan{Ports: s.nports, Addrs: len(s.addrs), Capped: s.capped}
}

// matches reports whether plain flow k belongs to group g of kind.
func (g *key) matches(k *key, kind scanKind) bool {
	if k.wid != g.wid || k.local != g.local || k.proto != g.proto || k.dir != g.dir {
		return false
	}
	if kind == scanPorts {
		return k.peer == g.peer && k.port != 0
	}
	return k.port == g.port && k.peer.IsValid()
}

// collapse replaces the plain flows of group g by its aggregate. ws.mu is
// held; shard locks are taken one at a time.
func (a *Aggregator) collapse(ws *wstate, h uint64, g key, kind scanKind) {
	agg := &entry{w: ws.w, scan: &scanState{}}
	var removed []key
	for i := range a.shards {
		sh := &a.shards[i]
		sh.mu.Lock()
		for k, e := range sh.m {
			if e.scan != nil || !g.matches(&k, kind) {
				continue
			}
			delete(sh.m, k)
			removed = append(removed, k)
			agg.absorb(e)
			agg.scan.note(&k, kind)
		}
		sh.mu.Unlock()
	}
	for i := range removed {
		ws.forget(&removed[i])
	}
	a.total.Add(-int64(len(removed)))
	if old := a.lookup(h, &g); old != nil {
		// Not reachable while ws.mu is held, but harmless.
		agg.absorb(old)
	} else {
		ws.n++
		a.total.Add(1)
	}
	a.put(h, g, agg)
	a.n.scans.Add(1)
}

// absorb makes o part of aggregate e, which is not published yet. o's
// counters are read at each snapshot rather than copied now: an
// observer that found o just before it was removed still updates it,
// and that update is not lost.
func (e *entry) absorb(o *entry) {
	if e.first == 0 || (o.first != 0 && o.first < e.first) {
		e.first = o.first
	}
	e.absorbed = append(e.absorbed, o)
}

// totals returns e's counters with those of the flows it absorbed.
func (e *entry) totals() (last int64, count, failed uint64) {
	last, count, failed = e.last.Load(), e.count.Load(), e.failed.Load()
	for _, o := range e.absorbed {
		last = max(last, o.last.Load())
		count += o.count.Load()
		failed += o.failed.Load()
	}
	return last, count, failed
}

// forget updates ws for plain flow k leaving the table. ws.mu is held.
func (ws *wstate) forget(k *key) {
	ws.n--
	for _, m := range []struct {
		counts map[key]int
		g      key
	}{{ws.byPeer, peerGroup(k)}, {ws.byPort, portGroup(k)}} {
		if m.counts[m.g]--; m.counts[m.g] <= 0 {
			delete(m.counts, m.g)
		}
	}
}
