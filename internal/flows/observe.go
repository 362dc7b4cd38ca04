package flows

import (
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/ktime"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/syscalls"
	"github.com/vigilsec/vigil/internal/workload"
)

// WorkloadResolver names the workload of a process; *workload.Resolver
// implements it.
type WorkloadResolver interface {
	Resolve(cgroupID uint64, pid uint32) (*workload.Workload, bool)
}

var _ WorkloadResolver = (*workload.Resolver)(nil)

// Observer turns pipeline events into observations for an Aggregator:
// the adapter the agent's event handler calls, as baseline.Observer is
// for baselines.
type Observer struct {
	agg *Aggregator
	res WorkloadResolver
	env *fields.Env

	ctxs    []fields.Context
	spareMu sync.Mutex
	spare   fields.Context

	unattributed atomic.Uint64
}

// ObserverConfig configures an Observer.
type ObserverConfig struct {
	Aggregator *Aggregator
	Workloads  WorkloadResolver
	// Env is the agent's field environment: the process table (for the
	// fd table of sendto and recvfrom) and the clock.
	Env *fields.Env
	// Shards is the number of pipeline shards calling Handle.
	Shards int
}

// NewObserver returns an observer.
func NewObserver(cfg ObserverConfig) *Observer {
	env := cfg.Env
	if env == nil {
		env = &fields.Env{}
	}
	return &Observer{agg: cfg.Aggregator, res: cfg.Workloads, env: env, ctxs: make([]fields.Context, max(cfg.Shards, 0))}
}

// Syscalls are the syscalls the Observer needs the sensor to capture.
// sendto is also every send() on a TCP socket, which the Observer
// ignores after one fd-table lookup; capturing it has a cost on busy
// servers.
func Syscalls() []string {
	return []string{"connect", "accept", "accept4", "bind", "listen", "sendto", "recvfrom"}
}

// Linux constants the adapter reads events with.
const (
	afInet      = 2
	afInet6     = 10
	sockStream  = 1
	sockDgram   = 2
	eInProgress = -115
	eAlready    = -114
	eIsConn     = -106
	msgFastOpen = 0x20000000
)

var nrSendto, nrRecvfrom = func() (int32, int32) {
	s, ok1 := syscalls.Number("sendto")
	r, ok2 := syscalls.Number("recvfrom")
	if !ok1 {
		s = -2
	}
	if !ok2 {
		r = -2
	}
	return s, r
}()

// Handle observes one event; its signature is the pipeline's handler's.
func (o *Observer) Handle(shard int, ev *event.Event) {
	if !relevant(ev) {
		return
	}
	if ev.Kind == event.KindExit {
		o.agg.node.Exited(ev.PID)
		return
	}
	if shard >= 0 && shard < len(o.ctxs) {
		c := &o.ctxs[shard]
		c.Reset(o.env, ev, 0)
		o.HandleContext(c)
		return
	}
	o.spareMu.Lock()
	o.spare.Reset(o.env, ev, 0)
	o.HandleContext(&o.spare)
	o.spareMu.Unlock()
}

func relevant(ev *event.Event) bool {
	switch ev.Kind {
	case event.KindSocket, event.KindExit:
		return true
	case event.KindSyscall:
		return ev.Syscall == nrSendto || ev.Syscall == nrRecvfrom
	}
	return false
}

// HandleContext observes the event of a context that was Reset for it,
// for a caller that has one already (the rule evaluator's). For a flow
// the aggregator holds it allocates nothing.
func (o *Observer) HandleContext(c *fields.Context) {
	ev := c.Event
	var obs Observation
	switch {
	case ev.Kind == event.KindExit:
		o.agg.node.Exited(ev.PID)
		return
	case ev.Kind == event.KindSocket:
		if !o.socket(c, &obs) {
			return
		}
	case ev.Kind == event.KindSyscall && (ev.Syscall == nrSendto || ev.Syscall == nrRecvfrom):
		if !datagram(c, &obs) {
			return
		}
	default:
		return
	}
	cg := ev.CgroupID
	if cg == 0 {
		cg = c.Proc.CgroupID
	}
	w, ok := o.res.Resolve(cg, ev.PID)
	if !ok {
		o.unattributed.Add(1)
		return
	}
	if obs.Dir == 0 {
		o.listen(c, w, &obs)
		return
	}
	obs.Workload = w
	if ev.Timestamp != 0 && o.env.Clock != (ktime.Clock{}) {
		obs.Time = o.env.Clock.Wall(ev.Timestamp).UnixNano()
	}
	o.agg.Observe(&obs)
}

// socket reads connect, accept, listen and bind. A listening socket is
// returned with no direction.
func (o *Observer) socket(c *fields.Context, obs *Observation) bool {
	ev := c.Event
	s := &ev.Socket
	if s.Family != afInet && s.Family != afInet6 {
		return false
	}
	switch s.Type {
	case sockStream:
		obs.Proto = TCP
	case sockDgram:
		obs.Proto = UDP
	default:
		return false
	}
	obs.Local, obs.Peer = s.Local, s.Remote
	switch s.Op {
	case event.OpConnect:
		if ev.Ret == eAlready || ev.Ret == eIsConn {
			return false // a non-blocking connect polled again: not a new connection
		}
		obs.Dir = Outbound
		obs.Failed = ev.Ret != 0 && ev.Ret != eInProgress
		return s.Remote.IsValid() && s.Remote.Port() != 0
	case event.OpAccept:
		obs.Dir = Inbound
		return ev.Ret >= 0 && s.Remote.IsValid()
	case event.OpListen:
		return ev.Ret == 0 && s.Local.Port() != 0
	case event.OpBind:
		// A bound UDP socket receives: it listens. TCP waits for listen.
		return ev.Ret == 0 && obs.Proto == UDP && s.Local.Port() != 0
	}
	return false
}

// datagram reads sendto and recvfrom on UDP sockets (and sendto with
// MSG_FASTOPEN, a TCP connect in disguise). recvfrom counts only when
// the sensor captured the sender's address: on a connected socket it is
// the reply of a flow the connect already showed.
func datagram(c *fields.Context, obs *Observation) bool {
	ev := c.Event
	if ev.Ret < 0 {
		return false
	}
	fd := int32(uint32(ev.Sys.Args[0]))
	var set proc.FDSet
	if ev.Timestamp != 0 {
		set, _ = c.Proc.Files.At(ev.Timestamp)
	} else {
		set = c.Proc.Files.Current()
	}
	e, known := set.Lookup(fd)
	addr, hasAddr := sockaddrSlot(ev, 4)
	obs.Proto = UDP
	if ev.Syscall == nrSendto && ev.Sys.Args[3]&msgFastOpen != 0 {
		obs.Proto = TCP
	} else if known && (!e.IsIP() || e.SockType != sockDgram) {
		return false
	}
	if known {
		obs.Local = e.Local
	}
	if ev.Syscall == nrRecvfrom {
		obs.Dir, obs.Peer = Inbound, addr
		return hasAddr
	}
	obs.Dir = Outbound
	switch {
	case hasAddr:
		obs.Peer = addr
	case known && e.Remote.IsValid():
		obs.Peer = e.Remote
	default:
		return false
	}
	return obs.Peer.Port() != 0
}

// sockaddrSlot decodes the sockaddr the sensor captured for argument i.
func sockaddrSlot(ev *event.Event, i uint8) (netip.AddrPort, bool) {
	for k := range ev.Sys.Slots {
		s := &ev.Sys.Slots[k]
		if s.Index != i || s.Type != event.SlotType(syscalls.SlotSockaddr) {
			continue
		}
		return parseSockaddr(s.Value)
	}
	return netip.AddrPort{}, false
}

// parseSockaddr reads a struct sockaddr_in or sockaddr_in6 as the
// process passed it.
func parseSockaddr(sa string) (netip.AddrPort, bool) {
	if len(sa) < 2 {
		return netip.AddrPort{}, false
	}
	family := uint16(sa[0]) | uint16(sa[1])<<8
	switch {
	case family == afInet && len(sa) >= 8:
		port := uint16(sa[2])<<8 | uint16(sa[3])
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{sa[4], sa[5], sa[6], sa[7]}), port), true
	case family == afInet6 && len(sa) >= 24:
		port := uint16(sa[2])<<8 | uint16(sa[3])
		var a [16]byte
		copy(a[:], sa[8:24])
		return netip.AddrPortFrom(netip.AddrFrom16(a).Unmap(), port), true
	}
	return netip.AddrPort{}, false
}

// listen records a listening socket. Listens are rare: copying the
// process name is fine here.
func (o *Observer) listen(c *fields.Context, w *workload.Workload, obs *Observation) {
	name := c.Event.Comm
	if c.Found && c.Proc.Image != nil && c.Proc.Comm != "" {
		name = c.Proc.Comm
	}
	o.agg.node.Listen(Listener{Workload: w, Addr: obs.Local, Proto: obs.Proto, PID: c.Event.PID,
		Process: strings.Clone(name)})
}

// Unattributed returns how many relevant events had no workload.
func (o *Observer) Unattributed() uint64 { return o.unattributed.Load() }
