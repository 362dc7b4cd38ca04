package fields

import (
	"unsafe"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/ktime"
	"github.com/vigilsec/vigil/internal/workload"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/proc"
)

// Env is what the contexts of one agent share. It is read-only once in use.
type Env struct {
	// Table is the process table; nil means that process fields come from
	// the event alone (an exec carries its full image, other events only
	// the task name) and that no ancestry is known.
	Table *proc.Table
	// Clock converts event timestamps to wall time (evt.time).
	Clock ktime.Clock
	// Users resolves user and group names; nil leaves them missing.
	Users *Users
	// Hostname is evt.hostname.
	Hostname string
	// Containers answers container.* and k8s.*; nil reports every process
	// as a host process.
	Containers container.Lookuper
	// Workloads answers workload.* and Context.Workload; nil leaves them
	// missing.
	Workloads WorkloadResolver
}

var defaultEnv = &Env{}

// slot names a derived string cached for the duration of one event.
type slot uint8

const (
	slotTypeName slot = iota
	slotCmdline
	slotArgs
	slotExeline
	slotPCmdline
	slotCapEffective
	slotCapPermitted
	slotFDName
	slotEvtArgs
	slotTime
	slotLoaderEnv
	numSlots
)

// maxAncestors bounds the ancestry a Context caches; it is the table's
// default walk depth.
const maxAncestors = proc.DefaultMaxDepth

// Context is one event as rules see it: the event, a snapshot of its
// process taken once, and caches for what is derived from them. Build one
// with new(Context) and Reset it for each event; it is not safe for
// concurrent use, so each pipeline worker keeps its own.
//
// Strings obtained through a Context's fields are valid until its next
// Reset (or until the event is released, whichever comes first).
type Context struct {
	Event *event.Event
	// Proc is the event's process. For a successful exec it is the new
	// image, which the table applied before the event reached the rules.
	Proc proc.Process
	// Found says the process table had an entry for the process.
	Found bool
	// Num is the event's number (evt.num).
	Num uint64
	Env *Env

	known bool       // Proc describes the process, from the table or the exec itself
	img   proc.Image // backs Proc when the table has no entry

	done  uint32 // bit per slot: strs[slot] is computed for this event
	strs  [numSlots]string
	shape shape // the event's parameter layout; shapeUnknown until computed
	arena []byte

	anc      [maxAncestors]proc.Process
	nAnc     int
	ancDepth int // how deep ancestry was fetched for this event

	// Cursors that quantified fields (proc.aname without an index, fd.ip)
	// set while the compiler tests each of their values; 0 is "not
	// iterating", in which case the field yields its single value.
	ancCursor int // 1-based index into anc
	fdCursor  fdEnd

	// The event's container, looked up once per event on first use.
	contDone  bool
	cont      *container.Info
	contState container.State

	// The event's workload, resolved once per event on first use.
	wlDone bool
	wl     *workload.Workload

	fdDone   bool   // fdv is built for this event
	fdv      fdView // see fd.go
	setsDone uint8  // bit i: sets[i] is fetched (0: after the event, 1: before)
	sets     [2]proc.FDSet
}

// Reset points the context at a new event and looks its process up.
// It does not allocate. env may be nil.
func (c *Context) Reset(env *Env, ev *event.Event, num uint64) {
	if env == nil {
		env = defaultEnv
	}
	c.Event, c.Env, c.Num = ev, env, num
	c.done, c.shape, c.nAnc, c.ancDepth, c.ancCursor, c.fdCursor = 0, shapeUnknown, 0, 0, 0, 0
	c.contDone, c.cont = false, nil
	c.wlDone, c.wl = false, nil
	c.fdDone, c.setsDone = false, 0
	c.arena = c.arena[:0]
	c.Found = false
	if env.Table != nil {
		c.Proc, c.Found = env.Table.Get(ev.PID)
		if !c.Found && ev.Kind == event.KindExit {
			// The table applies an exit before rules run; it keeps
			// recent exits for exactly this lookup.
			c.Proc, c.Found = env.Table.Exited(ev.PID)
		}
	}
	c.known = c.Found
	if !c.Found {
		c.fromEvent()
	}
}

// fromEvent describes the process from the event alone: fully for a
// successful exec, which carries the new image, and otherwise by name.
func (c *Context) fromEvent() {
	ev := c.Event
	c.img = proc.Image{Comm: ev.Comm, LoginUID: proc.NoLoginUID}
	if ev.Kind == event.KindExec && ev.Ret == 0 {
		x := &ev.Exec
		c.img = proc.Image{
			Comm: ev.Comm, Exe: x.Exe, Args: x.Args, Cwd: x.Cwd,
			UID: x.UID, GID: x.GID, EUID: x.EUID, EGID: x.EGID, LoginUID: x.LoginUID,
			TTY: x.TTY, SID: x.SID, PGID: x.PGID, CapEffective: x.CapEffective,
			CapPermitted: x.CapPermitted, MntNS: x.MntNS, Flags: x.Flags, ExecTime: ev.Timestamp,
		}
		c.known = true
	}
	c.Proc = proc.Process{PID: ev.PID, PPID: ev.PPID, CgroupID: ev.CgroupID, Image: &c.img}
}

// memo returns the cached string for s, building it with build on first
// use in this event.
func (c *Context) memo(s slot, build func(c *Context, dst []byte) []byte) string {
	if c.done&(1<<s) != 0 {
		return c.strs[s]
	}
	start := len(c.arena)
	c.arena = build(c, c.arena)
	v := c.since(start)
	c.strs[s], c.done = v, c.done|1<<s
	return v
}

// render builds a string in the arena without caching it, for derived
// values with an argument (proc.acmdline[3]).
func (c *Context) render(build func(dst []byte) []byte) string {
	start := len(c.arena)
	c.arena = build(c.arena)
	return c.since(start)
}

// since returns the arena bytes appended after start as a string, without
// copying. The bytes are never written again before the next Reset: the
// arena only grows within an event, and when append moves it, strings
// already handed out keep the old array alive.
func (c *Context) since(start int) string {
	if len(c.arena) == start {
		return ""
	}
	b := c.arena[start:]
	return unsafe.String(&b[0], len(b))
}

// ancestors returns the process's ancestors, nearest first, fetched from
// the table at least n deep (or as deep as they go).
func (c *Context) ancestors(n int) []proc.Process {
	n = min(n, maxAncestors)
	t := c.Env.Table
	if n <= c.ancDepth || t == nil {
		return c.anc[:c.nAnc]
	}
	// Most rules ask for the parent only; anything deeper fetches the
	// whole chain once rather than walking it again for every level.
	depth := maxAncestors
	if n == 1 {
		depth = 1
	}
	c.ancDepth = depth
	if c.Found {
		c.nAnc = len(t.AppendAncestors(c.anc[:0], c.Proc.PID, depth))
		return c.anc[:c.nAnc]
	}
	// Without an entry of its own, the process may still have a known parent.
	c.nAnc = 0
	if c.Proc.PPID == 0 {
		return nil
	}
	if parent, ok := t.Get(c.Proc.PPID); ok {
		c.anc[0] = parent
		c.nAnc = 1
		if depth > 1 {
			c.nAnc += len(t.AppendAncestors(c.anc[1:1], parent.PID, depth-1))
		}
	}
	return c.anc[:c.nAnc]
}

// Ancestors returns the process's ancestors, parent first, as deep as the
// table knows them. The slice is the context's cache: it is valid until
// the next Reset and must not be modified.
func (c *Context) Ancestors() []proc.Process { return c.ancestors(maxAncestors) }
