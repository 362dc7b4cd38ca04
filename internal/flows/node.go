package flows

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil/internal/workload"
)

// Node holds what the aggregator knows about this node's own endpoints:
// the listening sockets (from listen and UDP bind, and from a /proc
// seed) and addresses the caller knows the owner of (a container's
// address from its runtime). The owners of other local addresses are
// learned from the local ends of the flows themselves.
type Node struct {
	now func() time.Time
	max int

	mu        sync.RWMutex
	listeners map[listenKey]*Listener
	pids      map[uint32]int // listeners per pid, so that an exit checks one map
	addrs     map[netip.Addr]*workload.Workload

	dropped atomic.Uint64
}

type listenKey struct {
	wid   string
	addr  netip.AddrPort
	proto Proto
}

func newNode(max int, now func() time.Time) *Node {
	return &Node{now: now, max: max, listeners: map[listenKey]*Listener{}, pids: map[uint32]int{},
		addrs: map[netip.Addr]*workload.Workload{}}
}

// Listen records a listening socket; l.Since is set to now when zero.
// false means the table is full.
func (n *Node) Listen(l Listener) bool {
	if l.Workload == nil || l.Addr.Port() == 0 {
		return false
	}
	l.Addr = netip.AddrPortFrom(l.Addr.Addr().Unmap(), l.Addr.Port())
	k := listenKey{l.Workload.ID, l.Addr, l.Proto}
	n.mu.RLock()
	old := n.listeners[k]
	same := old != nil && old.PID == l.PID
	n.mu.RUnlock()
	if same {
		return true
	}
	if l.Since.IsZero() {
		l.Since = n.now()
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if old = n.listeners[k]; old == nil && len(n.listeners) >= n.max {
		n.dropped.Add(1)
		return false
	}
	if old != nil {
		n.unref(old.PID)
		l.Since = old.Since
	}
	n.listeners[k] = &l
	n.pids[l.PID]++
	return true
}

func (n *Node) unref(pid uint32) {
	if n.pids[pid]--; n.pids[pid] <= 0 {
		delete(n.pids, pid)
	}
}

// Exited forgets the listening sockets of a process that exited. It is
// called for every exit, so a process without any costs one lookup
// under a read lock.
func (n *Node) Exited(pid uint32) {
	n.mu.RLock()
	has := n.pids[pid] > 0
	n.mu.RUnlock()
	if !has {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for k, l := range n.listeners {
		if l.PID == pid {
			delete(n.listeners, k)
		}
	}
	delete(n.pids, pid)
}

// SetAddress records that addr belongs to workload w on this node (a
// container's or pod's address, as its runtime reports it); a nil w
// forgets the address.
func (n *Node) SetAddress(addr netip.Addr, w *workload.Workload) {
	addr = addr.Unmap()
	n.mu.Lock()
	defer n.mu.Unlock()
	if w == nil {
		delete(n.addrs, addr)
		return
	}
	if _, ok := n.addrs[addr]; !ok && len(n.addrs) >= n.max {
		n.dropped.Add(1)
		return
	}
	n.addrs[addr] = w
}

// Listeners returns the listening sockets, sorted by workload, port,
// protocol and address.
func (n *Node) Listeners() []Listener {
	n.mu.RLock()
	out := make([]Listener, 0, len(n.listeners))
	for _, l := range n.listeners {
		out = append(out, *l)
	}
	n.mu.RUnlock()
	slices.SortFunc(out, func(a, b Listener) int {
		return cmp.Or(strings.Compare(a.Workload.ID, b.Workload.ID), cmp.Compare(a.Addr.Port(), b.Addr.Port()),
			cmp.Compare(a.Proto, b.Proto), a.Addr.Addr().Compare(b.Addr.Addr()))
	})
	return out
}

// addresses returns a copy of the addresses set with SetAddress.
func (n *Node) addresses() map[netip.Addr]*workload.Workload {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make(map[netip.Addr]*workload.Workload, len(n.addrs))
	for a, w := range n.addrs {
		out[a] = w
	}
	return out
}

func (n *Node) count() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.listeners)
}

// Dropped returns how many listeners and addresses the bounds refused.
func (n *Node) Dropped() uint64 { return n.dropped.Load() }

// SeedResolver names the workload and process of a pid, for a seed.
type SeedResolver func(pid uint32) (w *workload.Workload, process string, ok bool)

// Seed records the listening sockets read from /proc (ReadListening).
// With replace, listeners that the seed does not show and that were
// recorded before start are forgotten: the seed read every process's
// sockets, so their socket was closed without the process exiting.
// It returns how many sockets were attributed to a workload.
func (n *Node) Seed(socks []Socket, start time.Time, replace bool, resolve SeedResolver) int {
	seen := map[listenKey]bool{}
	added := 0
	for _, s := range socks {
		w, process, ok := resolve(s.PID)
		if !ok || w == nil {
			continue
		}
		l := Listener{Workload: w, Addr: s.Addr, Proto: s.Proto, PID: s.PID, Process: process, FromProc: true}
		if n.Listen(l) {
			added++
			seen[listenKey{w.ID, netip.AddrPortFrom(s.Addr.Addr().Unmap(), s.Addr.Port()), s.Proto}] = true
		}
	}
	if !replace {
		return added
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for k, l := range n.listeners {
		if !seen[k] && l.Since.Before(start) {
			delete(n.listeners, k)
			n.unref(l.PID)
		}
	}
	return added
}
