package baseline

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/workload"
)

// Observer turns pipeline events into facts for an Engine: the adapter
// the agent's event handler calls. It resolves each event's workload,
// derives what the event says about each dimension, and observes it.
type Observer struct {
	eng *Engine
	res *workload.Resolver
	ids *Identifier
	env *fields.Env

	ctxs    []fields.Context
	spareMu sync.Mutex
	spare   fields.Context

	unattributed, deferred, noIdentity atomic.Uint64
}

// ObserverConfig configures an Observer.
type ObserverConfig struct {
	Engine    *Engine
	Workloads *workload.Resolver
	// Identities computes executables' identities; nil records
	// executables by path only.
	Identities *Identifier
	// Env is the field environment of the agent (process table, container
	// resolver, clock, users), for Handle and for alerts.
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
	return &Observer{eng: cfg.Engine, res: cfg.Workloads, ids: cfg.Identities, env: env,
		ctxs: make([]fields.Context, max(cfg.Shards, 0))}
}

// Syscalls are the syscalls the Observer needs the sensor to capture, on
// top of what rules ask for.
func Syscalls() []string {
	return []string{"execve", "execveat", "open", "openat", "openat2", "creat", "connect", "accept", "accept4", "bind", "listen"}
}

// Handle observes one event; its signature is the pipeline's handler's.
// Each shard uses its own context, so shards run in parallel.
func (o *Observer) Handle(shard int, ev *event.Event) {
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

// Linux constants the adapter reads events with.
const (
	afInet      = 2
	afInet6     = 10
	sockStream  = 1
	sockDgram   = 2
	oAccMode    = 0o3
	oWronly     = 0o1
	oRdwr       = 0o2
	eInProgress = -115
)

// HandleContext observes the event of a context that was Reset for it,
// for a caller that has one already (the rule evaluator's). For what the
// baseline already holds it allocates nothing.
//
// One event raises at most one drift alert: the syscall and capability
// an event proves are observed only when the operation itself (the
// program, the file, the connection) was no departure, since the alert
// for the operation already says all of it; likewise a new program's
// edge from its parent and its user.
func (o *Observer) HandleContext(c *fields.Context) {
	ev := c.Event
	if ev.Kind == event.KindFork || ev.Kind == event.KindExit {
		return
	}
	w := o.workloadOf(c)
	if w == nil {
		o.unattributed.Add(1)
		return
	}
	e := o.eng
	var f Fact
	res := Ignored
	switch ev.Kind {
	case event.KindExec:
		if ev.Ret == 0 {
			res = o.exec(w, c)
		}
	case event.KindOpen:
		if ev.Ret >= 0 && ev.Open.Path != "" {
			acc := ev.Open.Flags & oAccMode
			if acc == oWronly || acc == oRdwr {
				f = Fact{Dim: DimFileWrite, Path: ev.Open.Path}
				res = e.Observe(w, &f, c)
			}
			if acc != oWronly && res != Drift && e.Sensitive(ev.Open.Path) {
				f = Fact{Dim: DimFileRead, Path: ev.Open.Path}
				res = e.Observe(w, &f, c)
			}
		}
	case event.KindSocket:
		res = o.socket(w, c)
	}
	if res == Drift {
		return
	}
	if ev.Syscall >= 0 {
		f = Fact{Dim: DimSyscall, Num: uint32(ev.Syscall)}
		if e.Observe(w, &f, c) == Drift {
			return
		}
	}
	if capNum, ok := InferCapability(ev, c.Proc.EUID); ok {
		f = Fact{Dim: DimCapability, Num: capNum}
		e.Observe(w, &f, c)
	}
}

// workloadOf names the event's workload: through the context (which
// caches it for the rules and the alert too) when the environment has a
// resolver, else through the observer's own.
func (o *Observer) workloadOf(c *fields.Context) *workload.Workload {
	if c.Env != nil && c.Env.Workloads != nil {
		return c.Workload()
	}
	if o.res == nil {
		return nil
	}
	cg := c.Event.CgroupID
	if cg == 0 {
		cg = c.Proc.CgroupID
	}
	w, _ := o.res.Resolve(cg, c.Event.PID)
	return w
}

func (o *Observer) socket(w *workload.Workload, c *fields.Context) Result {
	ev := c.Event
	s := &ev.Socket
	if s.Family != afInet && s.Family != afInet6 {
		return Ignored
	}
	proto := ProtoAny
	switch s.Type {
	case sockStream:
		proto = ProtoTCP
	case sockDgram:
		proto = ProtoUDP
	default:
		return Ignored
	}
	var f Fact
	switch s.Op {
	case event.OpConnect:
		if (ev.Ret != 0 && ev.Ret != eInProgress) || !s.Remote.IsValid() || s.Remote.Port() == 0 {
			return Ignored
		}
		f = Fact{Dim: DimOutbound, Addr: s.Remote.Addr(), Port: s.Remote.Port(), Proto: proto}
	case event.OpListen:
		if ev.Ret != 0 || s.Local.Port() == 0 {
			return Ignored
		}
		f = Fact{Dim: DimListen, Port: s.Local.Port(), Proto: proto}
	case event.OpBind:
		// A bound UDP socket receives: it listens. TCP waits for listen.
		if ev.Ret != 0 || proto != ProtoUDP || s.Local.Port() == 0 {
			return Ignored
		}
		f = Fact{Dim: DimListen, Port: s.Local.Port(), Proto: proto}
	case event.OpAccept:
		if ev.Ret < 0 || !s.Remote.IsValid() {
			return Ignored
		}
		f = Fact{Dim: DimInbound, Addr: s.Remote.Addr(), Port: s.Local.Port(), Proto: proto}
	default:
		return Ignored
	}
	return o.eng.Observe(w, &f, c)
}

// exec observes a successful exec: the program, then (when the program
// is no departure) the edge from the parent's program and the user it
// runs as. It returns the program's result.
func (o *Observer) exec(w *workload.Workload, c *fields.Context) Result {
	ev := c.Event
	exe := ev.Exec.Exe
	if exe == "" {
		exe = c.Proc.Exe
	}
	if exe == "" {
		return Ignored
	}
	e := o.eng
	parent := o.parentExe(c)
	f := Fact{Dim: DimExec, Path: exe}
	if o.ids != nil && e.s().enabled[DimExec] {
		// Most execs are of files hashed before; a new file is hashed off
		// the event path and observed when its identity is known.
		id, pending, st := o.ids.OfProcess(ev.PID)
		switch st {
		case IDCached:
			f.Identity = id
		case IDPending:
			if o.observeLater(w, f, parent, ev.Exec.EUID, c, pending) {
				return Learned // decided later; nothing to say about it now
			}
			o.noIdentity.Add(1)
		default:
			o.noIdentity.Add(1)
		}
	}
	res := e.Observe(w, &f, c)
	if res != Drift {
		o.execRest(w, parent, exe, ev.Exec.EUID, c, nil)
	}
	return res
}

// execRest observes what an exec says besides the program: the edge
// from the parent's program and the effective user.
func (o *Observer) execRest(w *workload.Workload, parent, exe string, euid uint32, c *fields.Context, snap *captured) {
	f := Fact{Dim: DimUser, Num: euid}
	if o.eng.observe(w, &f, c, snap) == Drift {
		return
	}
	if parent != "" {
		f = Fact{Dim: DimExecEdge, Parent: parent, Path: exe}
		o.eng.observe(w, &f, c, snap)
	}
}

// observeLater observes an exec once its file is hashed. What the drift alert
// needs from the event is captured now, since the event is gone by then.
func (o *Observer) observeLater(w *workload.Workload, f Fact, parent string, euid uint32, c *fields.Context, p Pending) bool {
	f.Path = strings.Clone(f.Path)
	parent = strings.Clone(parent)
	snap := capture(c)
	ok := o.ids.Hash(p, func(id string) {
		f.Identity = id
		if o.eng.observe(w, &f, nil, snap) != Drift {
			o.execRest(w, parent, f.Path, euid, nil, snap)
		}
	})
	if ok {
		o.deferred.Add(1)
	}
	return ok
}

// parentExe returns the executable of the process's parent.
func (o *Observer) parentExe(c *fields.Context) string {
	if o.env.Table == nil {
		return ""
	}
	ppid := c.Proc.PPID
	if ppid == 0 {
		ppid = c.Event.PPID
	}
	if p, ok := o.env.Table.Get(ppid); ok {
		return p.Exe
	}
	return ""
}

// ObserverStats are an observer's counters.
type ObserverStats struct {
	Unattributed uint64 // events whose workload could not be named (yet)
	Deferred     uint64 // execs observed after their file was hashed
	NoIdentity   uint64 // execs observed without identity (process gone, queue full)
}

// Stats returns the counters.
func (o *Observer) Stats() ObserverStats {
	return ObserverStats{Unattributed: o.unattributed.Load(), Deferred: o.deferred.Load(), NoIdentity: o.noIdentity.Load()}
}
