package baseline

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/baseline/store"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/workload"
)

// Persister receives the engine's writes; *store.Writer implements it.
type Persister interface {
	// Enqueue queues a change without blocking; false means it was
	// dropped (the change is learned again later).
	Enqueue(store.Change) bool
	// Put queues a change that must not be dropped (modes, resets,
	// imports), waiting for room.
	Put(context.Context, store.Change) error
}

var _ Persister = (*store.Writer)(nil)

// Options are an Engine's connections to the rest of the agent. All are
// optional.
type Options struct {
	// Emit receives drift alerts; it must not block. Nil discards them.
	Emit func(*alert.Alert) bool
	// Store persists baselines and modes; nil keeps them in memory.
	Store Persister
	// Now is the wall clock; nil is time.Now.
	Now func() time.Time
	// Hostname goes into alerts.
	Hostname string
	// Logger receives mode changes and failures; nil is slog.Default().
	Logger *slog.Logger
	// Changed is called, off the event path, after a workload's baseline
	// or mode changed (learning flushed, a mode change, a reset, an
	// import), so that kernel policies built from it are rebuilt.
	Changed func(id string)
	// Enforce is called for a departure seen on the event path while its
	// workload is in protect mode: the operation already happened, so
	// no pre-operation mechanism covered it. It may act (kill the
	// process) and must fill the alert's Enforcement. Nil leaves an
	// alert-only outcome in the alert.
	Enforce func(w *workload.Workload, f *Fact, c *fields.Context, a *alert.Alert)
}

// Result says what Observe did with a fact.
type Result uint8

// Results.
const (
	// Ignored: the dimension is off, the workload excluded or over the
	// workload limit.
	Ignored Result = iota
	// Known: the baseline holds the fact.
	Known
	// Learned: the fact is new and was queued for the baseline (learn).
	Learned
	// Drift: the fact is new and the workload does not learn (monitor,
	// protect). An alert was raised unless the same departure or the
	// workload's alert budget was spent recently.
	Drift
)

const numShards = 64

// Engine keeps every workload's baseline and mode, answers the event
// path and the protect decisions, and learns. Observe and the Allow
// functions are safe for concurrent use and, for what the baseline
// already holds, take no lock and allocate nothing.
type Engine struct {
	set  atomic.Pointer[settings] // replaced whole by SetConfig
	opts Options
	log  *slog.Logger

	shards    [numShards]profileShard
	nProfiles atomic.Int64

	mergeMu sync.Mutex
	merges  [][2]*workload.Workload // see Merge

	n counters
}

type counters struct {
	learned, drift, alerts, suppressed, overLimit, pendingFull, dropped atomic.Uint64
}

// New returns an engine for a validated cfg.
func New(cfg Config, opts Options) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	e := &Engine{opts: opts, log: opts.Logger}
	if e.log == nil {
		e.log = slog.Default()
	}
	e.set.Store(newSettings(cfg))
	return e, nil
}

// settings is what the engine derives from its configuration. The event
// path reads it through one atomic load, so that SetConfig can replace
// it while events flow.
type settings struct {
	cfg       Config
	defMode   Mode
	enabled   [NumDimensions]bool
	sensitive *PathSet
}

func newSettings(cfg Config) *settings {
	s := &settings{cfg: cfg, sensitive: newSensitive(cfg.SensitivePaths)}
	s.defMode, _ = ParseMode(cfg.DefaultMode)
	for d := range NumDimensions {
		s.enabled[d] = cfg.Dimension(d).Enabled
	}
	return s
}

func (e *Engine) s() *settings { return e.set.Load() }

// Config returns the engine's configuration.
func (e *Engine) Config() Config { return e.s().cfg }

// Sensitive reports whether reading path is recorded (see
// DefaultSensitivePaths). It does not allocate.
func (e *Engine) Sensitive(path string) bool { return e.s().sensitive.Match(path) }

// Observe checks one fact of workload w against its baseline: a known
// fact costs a map lookup and a few comparisons. A new fact is queued
// for learning, or raises a drift alert, depending on the workload's
// mode. c, if not nil, describes the event for the alert; it is only
// read before Observe returns.
func (e *Engine) Observe(w *workload.Workload, f *Fact, c *fields.Context) Result {
	return e.observe(w, f, c, nil)
}

// observe is Observe for a fact whose event may be gone: snap, when not
// nil, stands for c in alerts.
func (e *Engine) observe(w *workload.Workload, f *Fact, c *fields.Context, snap *captured) Result {
	if w == nil || f.Dim >= NumDimensions {
		return Ignored
	}
	set := e.s()
	if !set.enabled[f.Dim] {
		return Ignored
	}
	p := e.profile(w, true)
	if p == nil {
		return Ignored
	}
	if p.view.Load().known(f) {
		return Known
	}
	now := e.opts.Now().UnixNano()
	switch m := p.getMode(); m {
	case Learn:
		if !p.learn(f) {
			e.n.pendingFull.Add(1)
		}
		e.n.learned.Add(1)
		return Learned
	default:
		e.n.drift.Add(1)
		e.drift(set, p, f, c, snap, m, now)
		return Drift
	}
}

// profileShard holds some of the profiles in a map that is replaced,
// never changed, so that lookups take no lock: profiles are added rarely
// (a new workload) and looked up on every event.
type profileShard struct {
	m  atomic.Pointer[map[string]*profile]
	mu sync.Mutex // serialises the writers
}

func (sh *profileShard) get(id string) (*profile, bool) {
	m := sh.m.Load()
	if m == nil {
		return nil, false
	}
	p, ok := (*m)[id]
	return p, ok
}

// set stores p (nil to remember a refusal) under id, or deletes id when
// del is set. sh.mu is held.
func (sh *profileShard) set(id string, p *profile, del bool) {
	var next map[string]*profile
	if m := sh.m.Load(); m != nil {
		next = maps.Clone(*m)
	}
	if next == nil {
		next = make(map[string]*profile)
	}
	if del {
		delete(next, id)
	} else {
		next[id] = p
	}
	sh.m.Store(&next)
}

// profile returns w's profile, creating it (in the default mode) when
// create is set. It is nil for an excluded workload or when
// MaxWorkloads are tracked already.
func (e *Engine) profile(w *workload.Workload, create bool) *profile {
	p, ok := e.shard(w).get(w.ID)
	if ok || !create {
		return p
	}
	return e.create(w, e.s().defMode)
}

// create adds a profile for w. An excluded workload is remembered as a
// nil profile so that its lookups stay cheap.
func (e *Engine) create(w *workload.Workload, m Mode) *profile {
	sh := e.shard(w)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if p, ok := sh.get(w.ID); ok {
		return p
	}
	if e.s().cfg.excluded(w.ID, w.Namespace) {
		sh.set(w.ID, nil, false)
		return nil
	}
	if e.nProfiles.Load() >= int64(e.s().cfg.MaxWorkloads) {
		// Remember the refusal, so that the workload's events do not
		// take this lock again; it is tracked after a restart.
		e.n.overLimit.Add(1)
		sh.set(w.ID, nil, false)
		return nil
	}
	p := newProfile(w, m, e.opts.Now().UnixNano())
	sh.set(w.ID, p, false)
	e.nProfiles.Add(1)
	_ = e.persist(p, false) // queued, not waited for: always nil
	return p
}

// insert adds a restored profile unless the id is taken.
func (e *Engine) insert(p *profile) {
	sh := e.shard(p.w)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, dup := sh.get(p.w.ID); !dup {
		sh.set(p.w.ID, p, false)
		e.nProfiles.Add(1)
	}
}

// shard returns the shard of w's profile. A Workload built without its
// hash (not through package workload's constructors) is hashed here, so
// that lookups by id find it.
func (e *Engine) shard(w *workload.Workload) *profileShard {
	h := w.Hash
	if h == 0 {
		h = workload.HashID(w.ID)
	}
	return &e.shards[h%numShards]
}

// lookup finds a profile by id.
func (e *Engine) lookup(id string) *profile {
	p, _ := e.shards[workload.HashID(id)%numShards].get(id)
	return p
}

// profiles returns every profile.
func (e *Engine) profiles() []*profile {
	var out []*profile
	for i := range e.shards {
		if m := e.shards[i].m.Load(); m != nil {
			for _, p := range *m {
				if p != nil {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// remove forgets a profile.
func (e *Engine) remove(id string) {
	sh := &e.shards[workload.HashID(id)%numShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if p, _ := sh.get(id); p != nil {
		sh.set(id, nil, true)
		e.nProfiles.Add(-1)
	}
}

// Mode returns a workload's mode; false when it has no baseline.
func (e *Engine) Mode(id string) (Mode, bool) {
	p := e.lookup(id)
	if p == nil {
		return 0, false
	}
	return p.getMode(), true
}

// Run flushes learning and moves workloads from learn to monitor until
// ctx ends, every interval (250ms when 0).
func (e *Engine) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = 250 * time.Millisecond
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			e.Flush()
			return
		case <-t.C:
			e.Flush()
		}
	}
}

// Stats are the engine's counters.
type Stats struct {
	Workloads   int
	Learned     uint64 // new facts queued for learning
	Drift       uint64 // departures seen (monitor, protect)
	Alerts      uint64 // drift alerts raised
	Suppressed  uint64 // departures that raised no alert (repeat or budget)
	OverLimit   uint64 // facts of workloads beyond max_workloads
	PendingFull uint64 // new facts dropped because a workload's queue was full
	StoreDrops  uint64 // changes the store's queue refused
}

// Stats returns the counters.
func (e *Engine) Stats() Stats {
	return Stats{Workloads: int(e.nProfiles.Load()), Learned: e.n.learned.Load(), Drift: e.n.drift.Load(),
		Alerts: e.n.alerts.Load(), Suppressed: e.n.suppressed.Load(), OverLimit: e.n.overLimit.Load(),
		PendingFull: e.n.pendingFull.Load(), StoreDrops: e.n.dropped.Load()}
}
