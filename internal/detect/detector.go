package detect

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
)

// Config configures a Detector.
type Config struct {
	Program *Program
	// Env is shared by every event's context: the process table (the
	// agent's), the clock, user names, the hostname. Nil means an empty
	// Env, which leaves process fields to what events carry.
	Env *fields.Env
	// Shards is the number of pipeline shards calling Handle; each gets
	// its own context. 0 means runtime.NumCPU(), the pipeline's default.
	Shards int
	// Emit receives alerts; it must not block (Emitter.Emit does not).
	// It returns false for an alert it dropped. Nil discards alerts,
	// which still count as matches.
	Emit func(*alert.Alert) bool
	// Latency, if not nil, records the time from each matching event's
	// kernel timestamp to its alert being handed to Emit.
	Latency *Latency
}

// Detector evaluates a program on events. Handle is safe for concurrent
// use by distinct shards. SetProgram replaces the program while events
// flow (see swap.go).
type Detector struct {
	cur     atomic.Pointer[loaded]
	env     *fields.Env
	emit    func(*alert.Alert) bool
	latency *Latency
	workers []*worker
	alerts  *alertBuilder
	counts  matchCounts
	reactor atomic.Pointer[reactorBox] // see react.go
	// observer sees every handled event's context (see observe.go).
	observer atomic.Pointer[observerBox]

	// spare serves shard numbers beyond Shards and Evaluate, under a lock.
	spareMu sync.Mutex
	spare   *worker
}

// worker is one shard's private state. Workers are separate allocations
// so that their counters do not share cache lines.
type worker struct {
	program programRef
	ctx     fields.Context
	matched []*Rule
	buf     []byte
	events  atomic.Uint64
	alerts  atomic.Uint64
	dropped atomic.Uint64
}

// New returns a detector for cfg.Program.
func New(cfg Config) *Detector {
	env := cfg.Env
	if env == nil {
		env = &fields.Env{}
	}
	n := cfg.Shards
	if n <= 0 {
		n = runtime.NumCPU()
	}
	d := &Detector{
		env:     env,
		emit:    cfg.Emit,
		latency: cfg.Latency,
		alerts:  newAlertBuilder(cfg.Program, env),
		spare:   newWorker(),
	}
	d.cur.Store(&loaded{prog: cfg.Program, types: newTypeIndex(cfg.Program)})
	for range n {
		d.workers = append(d.workers, newWorker())
	}
	return d
}

func newWorker() *worker {
	return &worker{matched: make([]*Rule, 0, 16), buf: make([]byte, 0, 1024)}
}

// Handle evaluates the rules on one event and emits an alert per match. Its
// signature is agent.Config.Handler's. It keeps nothing that points into
// ev once it returns.
func (d *Detector) Handle(shard int, ev *event.Event) {
	if shard >= 0 && shard < len(d.workers) {
		d.handle(d.workers[shard], shard, ev)
		return
	}
	d.spareMu.Lock()
	d.handle(d.spare, len(d.workers), ev)
	d.spareMu.Unlock()
}

func (d *Detector) handle(w *worker, id int, ev *event.Event) {
	if d.match(w, id, ev) {
		d.alert(w, ev)
	}
	if box := d.observer.Load(); box != nil {
		box.o.HandleContext(&w.ctx)
	}
}

// alert builds, hands to the reactor and emits the alert of each rule
// match has left in w.matched.
func (d *Detector) alert(w *worker, ev *event.Event) {
	for _, r := range w.matched {
		var a *alert.Alert
		a, w.buf = d.alerts.build(&w.ctx, r, w.buf)
		w.alerts.Add(1)
		if !d.react(&w.ctx, r, a) {
			continue
		}
		d.latency.Observe(ev.Timestamp)
		if d.emit != nil && !d.emit(a) {
			w.dropped.Add(1)
		}
	}
}

// match resets w's context for ev and leaves the matching rules in
// w.matched, reporting whether there are any.
func (d *Detector) match(w *worker, id int, ev *event.Event) bool {
	// Events are numbered per worker and interleaved, so that evt.num is
	// unique without a counter shared by every core.
	n := w.events.Add(1)
	num := (n-1)*uint64(len(d.workers)+1) + uint64(id) + 1
	w.ctx.Reset(d.env, ev, num)
	// One program for the whole evaluation, even when SetProgram swaps it
	// meanwhile.
	l := w.program.acquire(&d.cur)
	w.matched = l.prog.Match(&w.ctx, l.types.of(ev), w.matched[:0])
	return len(w.matched) > 0
}

// Evaluate runs the rules on one event and returns its alerts instead of
// emitting them: for rule tests and tools. It is safe for concurrent use
// but serialized.
func (d *Detector) Evaluate(ev *event.Event) []*alert.Alert {
	d.spareMu.Lock()
	defer d.spareMu.Unlock()
	w := d.spare
	if !d.match(w, len(d.workers), ev) {
		return nil
	}
	out := make([]*alert.Alert, 0, len(w.matched))
	for _, r := range w.matched {
		var a *alert.Alert
		a, w.buf = d.alerts.build(&w.ctx, r, w.buf)
		out = append(out, a)
	}
	return out
}

// Stats are a detector's counters.
type Stats struct {
	Events  uint64 // events evaluated
	Alerts  uint64 // rule matches turned into alerts
	Dropped uint64 // alerts the emitter refused
	// Rules holds every enabled rule's match count, in load order. Counts
	// carry over by rule name across SetProgram.
	Rules []RuleStats
}

// RuleStats is one rule's match count.
type RuleStats struct {
	Name    string
	Matches uint64
}

// Stats returns the counters. It allocates; it is for reporting.
func (d *Detector) Stats() Stats {
	var s Stats
	for _, w := range d.allWorkers() {
		s.Events += w.events.Load()
		s.Alerts += w.alerts.Load()
		s.Dropped += w.dropped.Load()
	}
	s.Rules = d.ruleStats()
	return s
}
