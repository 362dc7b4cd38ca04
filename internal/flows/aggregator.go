package flows

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil/internal/workload"
)

// Options are an Aggregator's connections to the rest of the agent.
type Options struct {
	// Now is the wall clock; nil is time.Now.
	Now func() time.Time
	// Names names external addresses; nil groups them by network only.
	Names Names
}

const numShards = 64

// key identifies a raw flow: what the observing workload saw, before
// resolution. A port-scan aggregate has port 0; an address-scan
// aggregate has no peer.
type key struct {
	wid   string
	local netip.Addr
	peer  netip.Addr
	port  uint16
	proto Proto
	dir   Direction
}

// entry is a raw flow. Only its counters change once it is published.
type entry struct {
	w      *workload.Workload
	first  int64
	last   atomic.Int64
	count  atomic.Uint64
	failed atomic.Uint64
	scan   *scanState // set for a scan aggregate
	// absorbed are the flows a scan aggregate replaced (at most the
	// scan threshold and one); immutable once published.
	absorbed []*entry
}

func (e *entry) hit(t int64, failed bool) {
	if t > e.last.Load() {
		e.last.Store(t)
	}
	e.count.Add(1)
	if failed {
		e.failed.Add(1)
	}
}

type shard struct {
	mu sync.RWMutex
	m  map[key]*entry
	_  [32]byte // keeps neighbouring shards' locks off one cache line
}

// Aggregator keeps the flows of this node. Observe is safe for
// concurrent use and allocates nothing for a flow it already holds.
type Aggregator struct {
	cfg    Config
	opts   Options
	node   *Node
	shards [numShards]shard
	total  atomic.Int64

	wmu sync.Mutex
	ws  map[string]*wstate

	n struct{ invalid, dropped, scans, expired atomic.Uint64 }
}

// wstate is one workload's bookkeeping for the bounds, touched on the
// slow path only.
type wstate struct {
	mu      sync.Mutex
	w       *workload.Workload
	n       int
	dropped uint64
	retired bool // removed from Aggregator.ws by the sweep
	// byPeer counts plain flows per (local, peer, proto, dir): distinct
	// ports; byPort per (local, port, proto, dir): distinct peers.
	byPeer map[key]int
	byPort map[key]int
}

// New returns an aggregator for cfg (zero values are defaults).
func New(cfg Config, opts Options) (*Aggregator, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	a := &Aggregator{cfg: cfg, opts: opts, ws: map[string]*wstate{}}
	a.node = newNode(cfg.MaxListeners, opts.Now)
	for i := range a.shards {
		a.shards[i].m = map[key]*entry{}
	}
	return a, nil
}

// Node returns the node's listening sockets and addresses, which the
// aggregator resolves local endpoints with.
func (a *Aggregator) Node() *Node { return a.node }

// Config returns the configuration with defaults filled in.
func (a *Aggregator) Config() Config { return a.cfg }

// Observe records one observation; false means it was invalid or
// dropped by a bound.
func (a *Aggregator) Observe(o *Observation) bool {
	k, ok := makeKey(o)
	if !ok {
		a.n.invalid.Add(1)
		return false
	}
	t := o.Time
	if t == 0 {
		t = a.opts.Now().UnixNano()
	}
	h := wlHash(o.Workload)
	if e := a.lookup(h, &k); e != nil {
		e.hit(t, o.Failed)
		return true
	}
	if e, agg := a.aggregate(h, &k); e != nil {
		e.hit(t, o.Failed)
		e.scan.note(&k, agg)
		return true
	}
	return a.insert(o.Workload, h, k, t, o.Failed)
}

func makeKey(o *Observation) (key, bool) {
	if o.Workload == nil || (o.Proto != TCP && o.Proto != UDP) || (o.Dir != Outbound && o.Dir != Inbound) {
		return key{}, false
	}
	peer := o.Peer.Addr().Unmap()
	if !peer.IsValid() || peer.IsUnspecified() {
		return key{}, false
	}
	k := key{wid: o.Workload.ID, local: o.Local.Addr().Unmap(), peer: peer, proto: o.Proto, dir: o.Dir}
	if o.Dir == Outbound {
		k.port = o.Peer.Port()
	} else {
		k.port = o.Local.Port()
	}
	return k, k.port != 0
}

func wlHash(w *workload.Workload) uint64 {
	if w.Hash != 0 {
		return w.Hash
	}
	return workload.HashID(w.ID)
}

// shardOf spreads one workload's flows over the shards by port and peer,
// so that a busy workload does not serialise on one lock.
func (a *Aggregator) shardOf(h uint64, k *key) *shard {
	h ^= uint64(k.port) * 0x9e3779b97f4a7c15
	h ^= addrBits(k.peer) * 0xc2b2ae3d27d4eb4f
	h ^= h >> 29
	return &a.shards[h%numShards]
}

func addrBits(a netip.Addr) uint64 {
	if a.Is4() {
		b := a.As4()
		return uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
	}
	if !a.IsValid() {
		return 0
	}
	b := a.As16()
	var v uint64
	for _, x := range b[8:] {
		v = v<<8 | uint64(x)
	}
	return v
}

func (a *Aggregator) lookup(h uint64, k *key) *entry {
	sh := a.shardOf(h, k)
	sh.mu.RLock()
	e := sh.m[*k]
	sh.mu.RUnlock()
	return e
}

func (a *Aggregator) put(h uint64, k key, e *entry) {
	sh := a.shardOf(h, &k)
	sh.mu.Lock()
	sh.m[k] = e
	sh.mu.Unlock()
}

// state returns w's bookkeeping, creating it.
func (a *Aggregator) state(w *workload.Workload) *wstate {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	ws := a.ws[w.ID]
	if ws == nil {
		ws = &wstate{w: w, byPeer: map[key]int{}, byPort: map[key]int{}}
		a.ws[w.ID] = ws
	}
	return ws
}

// lockedState returns w's bookkeeping, locked. A state the sweep has
// just retired is not used: its counts would be lost.
func (a *Aggregator) lockedState(w *workload.Workload) *wstate {
	for {
		ws := a.state(w)
		ws.mu.Lock()
		if !ws.retired {
			return ws
		}
		ws.mu.Unlock()
	}
}

// insert is the slow path: a flow not held yet.
func (a *Aggregator) insert(w *workload.Workload, h uint64, k key, t int64, failed bool) bool {
	ws := a.lockedState(w)
	defer ws.mu.Unlock()
	ws.w = w
	// Another caller may have added it, or collapsed it, meanwhile.
	if e := a.lookup(h, &k); e != nil {
		e.hit(t, failed)
		return true
	}
	if e, agg := a.aggregate(h, &k); e != nil {
		e.hit(t, failed)
		e.scan.note(&k, agg)
		return true
	}
	if ws.n >= a.cfg.MaxPerWorkload || a.total.Load() >= int64(a.cfg.MaxFlows) {
		ws.dropped++
		a.n.dropped.Add(1)
		return false
	}
	e := &entry{w: w, first: t}
	e.hit(t, failed)
	a.put(h, k, e)
	ws.n++
	a.total.Add(1)
	pk, qk := peerGroup(&k), portGroup(&k)
	ws.byPeer[pk]++
	ws.byPort[qk]++
	switch {
	case ws.byPeer[pk] > a.cfg.ScanPorts:
		a.collapse(ws, h, pk, scanPorts)
	case ws.byPort[qk] > a.cfg.ScanAddrs:
		a.collapse(ws, h, qk, scanAddrs)
	}
	return true
}

// Run expires flows every interval (1 minute when 0) until ctx ends.
func (a *Aggregator) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.Sweep()
		}
	}
}

// Stats are an aggregator's counters.
type Stats struct {
	Flows     int    `json:"flows"`     // raw flows held
	Workloads int    `json:"workloads"` // workloads with flows
	Listeners int    `json:"listeners"` // listening sockets held
	Invalid   uint64 `json:"invalid"`   // observations without a workload, peer or port
	Dropped   uint64 `json:"dropped"`   // new flows refused by max_flows or max_per_workload
	Scans     uint64 `json:"scans"`     // scan aggregates created
	Expired   uint64 `json:"expired"`   // flows removed by the TTL
}

// Stats returns the counters.
func (a *Aggregator) Stats() Stats {
	a.wmu.Lock()
	nw := len(a.ws)
	a.wmu.Unlock()
	return Stats{Flows: int(a.total.Load()), Workloads: nw, Listeners: a.node.count(),
		Invalid: a.n.invalid.Load(), Dropped: a.n.dropped.Load(), Scans: a.n.scans.Load(), Expired: a.n.expired.Load()}
}

// Dropped returns how many new flows of workload id were refused by the
// per-workload or global cap.
func (a *Aggregator) Dropped(id string) uint64 {
	a.wmu.Lock()
	ws := a.ws[id]
	a.wmu.Unlock()
	if ws == nil {
		return 0
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.dropped
}
