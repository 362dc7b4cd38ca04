package reload

import (
	"context"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/outputs"
)

// BuildOutputs starts a dispatcher for the enabled outputs of o.
type BuildOutputs func(o config.Outputs) (*outputs.Dispatcher, error)

// Alerts is the alert path after the detector, the rate limiter and the
// outputs, which a reload replaces while alerts flow. Emit never blocks
// and no alert is handed to an output that is already closing. Counters
// carry over by output name, so /metrics never sees them go backwards.
type Alerts struct {
	build BuildOutputs
	drain time.Duration
	cur   atomic.Pointer[stage]

	mu  sync.Mutex // serializes Prepare/Commit and Close
	cfg config.Config

	statsMu  sync.Mutex
	retiring []*stage // swapped out, still draining: counted as they are
	// Totals of the stages already closed.
	outputs    map[string]outputs.Stats
	emitter    alert.DeliveryStats
	suppressed uint64
}

// stage is one limiter and dispatcher pair. inflight counts Emit calls
// inside it, so a swap knows when the old one can be closed.
type stage struct {
	disp    *outputs.Dispatcher
	limiter *outputs.Limiter
	// sharedDisp is set when the stage reuses the previous stage's
	// dispatcher (only the rate limit changed): retiring the previous
	// stage must then not close it.
	sharedDisp bool
	inflight   atomic.Int64
}

func (s *stage) emit(a *alert.Alert) bool {
	if s.limiter != nil {
		return s.limiter.Emit(a)
	}
	return s.disp.Emit(a)
}

// NewAlerts starts the outputs and rate limit of cfg. drain bounds how
// long replaced (and, on Close, the last) outputs may take to deliver what
// they hold.
func NewAlerts(cfg *config.Config, build BuildOutputs, drain time.Duration) (*Alerts, error) {
	a := &Alerts{build: build, drain: drain, outputs: map[string]outputs.Stats{}}
	s, err := a.newStage(cfg, nil)
	if err != nil {
		return nil, err
	}
	a.cfg = *cfg
	a.cur.Store(s)
	return a, nil
}

func (a *Alerts) newStage(cfg *config.Config, prev *stage) (*stage, error) {
	s := &stage{}
	if prev != nil && reflect.DeepEqual(cfg.Outputs, a.cfg.Outputs) {
		s.disp, s.sharedDisp = prev.disp, true
	} else {
		d, err := a.build(cfg.Outputs)
		if err != nil {
			return nil, err
		}
		s.disp = d
	}
	if rl := cfg.RateLimit; rl.Enabled {
		s.limiter = outputs.NewLimiter(outputs.LimitConfig{Rate: rl.Rate, Burst: rl.Burst, PerContainer: rl.PerContainer,
			Window: time.Duration(rl.Window)}, s.disp.Emit, nil)
		s.limiter.Start()
	}
	return s, nil
}

// Emit hands an alert to the rate limiter or, without one, the outputs.
// It is the detector's Emit.
func (a *Alerts) Emit(al *alert.Alert) bool {
	return a.enter(func(s *stage) bool { return s.emit(al) })
}

// EmitUnlimited hands an alert straight to the outputs, for alerts that
// limit themselves (the kernel drop alert).
func (a *Alerts) EmitUnlimited(al *alert.Alert) bool {
	return a.enter(func(s *stage) bool { return s.disp.Emit(al) })
}

// enter runs fn on the current stage, counted in its inflight. The
// re-check after counting closes the race with a swap: either the swapper
// sees the count and waits, or this call sees the new stage.
func (a *Alerts) enter(fn func(*stage) bool) bool {
	for {
		s := a.cur.Load()
		s.inflight.Add(1)
		if a.cur.Load() == s {
			ok := fn(s)
			s.inflight.Add(-1)
			return ok
		}
		s.inflight.Add(-1)
	}
}

// Pending is a new alert path built by Prepare, not in use yet.
type Pending struct {
	a   *Alerts
	s   *stage
	cfg config.Config
}

// Prepare builds the alert path cfg describes, if its outputs or rate
// limit differ from the running ones; it returns nil when nothing changed.
// Nothing running is touched: Commit switches, Discard drops it.
func (a *Alerts) Prepare(cfg *config.Config) (*Pending, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if reflect.DeepEqual(cfg.Outputs, a.cfg.Outputs) && reflect.DeepEqual(cfg.RateLimit, a.cfg.RateLimit) {
		return nil, nil
	}
	s, err := a.newStage(cfg, a.cur.Load())
	if err != nil {
		return nil, err
	}
	return &Pending{a: a, s: s, cfg: *cfg}, nil
}

// Discard stops what Prepare started.
func (p *Pending) Discard() {
	if p == nil {
		return
	}
	p.a.mu.Lock()
	defer p.a.mu.Unlock()
	closeStage(p.s, !p.s.sharedDisp, p.a.drain)
}

// Commit makes the prepared path current and retires the old one: it
// waits for Emit calls inside it to return, lets its limiter report what
// it suppressed, and drains its outputs for up to the drain deadline. New
// alerts go to the new path meanwhile.
func (p *Pending) Commit() {
	if p == nil {
		return
	}
	a := p.a
	a.mu.Lock()
	defer a.mu.Unlock()
	a.statsMu.Lock()
	old := a.cur.Swap(p.s)
	a.retiring = append(a.retiring, old)
	a.statsMu.Unlock()
	a.cfg = p.cfg
	for old.inflight.Load() != 0 {
		time.Sleep(50 * time.Microsecond) // an Emit is a few non-blocking enqueues
	}
	// When the new stage kept the dispatcher, only the limiter goes.
	closeStage(old, !p.s.sharedDisp, a.drain)
	a.retire(old, !p.s.sharedDisp)
}

// closeStage stops the limiter (its last summaries go to the outputs)
// and, with closeDisp, drains and closes the dispatcher.
func closeStage(s *stage, closeDisp bool, drain time.Duration) {
	if s.limiter != nil {
		s.limiter.Stop()
	}
	if closeDisp {
		ctx, cancel := context.WithTimeout(context.Background(), drain)
		defer cancel()
		s.disp.Close(ctx)
	}
}

// retire moves a closed stage's counters into the totals; withOutputs is
// false when its dispatcher is still in use (and counted) by the current
// stage.
func (a *Alerts) retire(s *stage, withOutputs bool) {
	a.statsMu.Lock()
	defer a.statsMu.Unlock()
	for i, r := range a.retiring {
		if r == s {
			a.retiring = append(a.retiring[:i], a.retiring[i+1:]...)
			break
		}
	}
	if s.limiter != nil {
		a.suppressed += s.limiter.Suppressed()
	}
	if !withOutputs {
		return
	}
	for _, st := range s.disp.Stats() {
		a.outputs[st.Output] = addStats(a.outputs[st.Output], st)
	}
	e := s.disp.EmitterStats()
	a.emitter.Emitted += e.Emitted
	a.emitter.Dropped += e.Dropped
	a.emitter.Written += e.Written
	a.emitter.Errors += e.Errors
}

func addStats(a, b outputs.Stats) outputs.Stats {
	return outputs.Stats{Output: b.Output, Sent: a.Sent + b.Sent, Failed: a.Failed + b.Failed,
		Dropped: a.Dropped + b.Dropped, Retries: a.Retries + b.Retries, Queued: a.Queued + b.Queued}
}

// stages returns the stages whose dispatchers are counted live: the
// current one and those retiring, each dispatcher once. Called with
// statsMu held.
func (a *Alerts) stages() []*stage {
	out := []*stage{a.cur.Load()}
	for _, s := range a.retiring {
		if s.disp != out[0].disp {
			out = append(out, s)
		}
	}
	return out
}

// Stats returns every output's counters since start, by output name: the
// running outputs first, in configuration order, then those a reload
// removed.
func (a *Alerts) Stats() []outputs.Stats {
	a.statsMu.Lock()
	defer a.statsMu.Unlock()
	sum := map[string]outputs.Stats{}
	var order []string
	add := func(st outputs.Stats) {
		if _, ok := sum[st.Output]; !ok {
			order = append(order, st.Output)
		}
		sum[st.Output] = addStats(sum[st.Output], st)
	}
	for _, s := range a.stages() {
		for _, st := range s.disp.Stats() {
			add(st)
		}
	}
	var gone []string
	for name := range a.outputs {
		if _, ok := sum[name]; !ok {
			gone = append(gone, name)
		}
	}
	sort.Strings(gone)
	for name, st := range a.outputs {
		if _, ok := sum[name]; ok {
			sum[name] = addStats(sum[name], st)
		}
	}
	for _, name := range gone {
		add(a.outputs[name])
	}
	out := make([]outputs.Stats, len(order))
	for i, name := range order {
		out[i] = sum[name]
	}
	return out
}

// EmitterStats sums the alert path's totals since start.
func (a *Alerts) EmitterStats() alert.DeliveryStats {
	a.statsMu.Lock()
	defer a.statsMu.Unlock()
	e := a.emitter
	for _, s := range a.stages() {
		st := s.disp.EmitterStats()
		e.Emitted += st.Emitted
		e.Dropped += st.Dropped
		e.Written += st.Written
		e.Errors += st.Errors
	}
	return e
}

// Suppressed is how many alerts the rate limits held back since start.
func (a *Alerts) Suppressed() uint64 {
	a.statsMu.Lock()
	defer a.statsMu.Unlock()
	n := a.suppressed
	for _, s := range append([]*stage{a.cur.Load()}, a.retiring...) {
		if s.limiter != nil {
			n += s.limiter.Suppressed()
		}
	}
	return n
}

// Close stops the rate limit (reporting what it suppressed) and drains
// the outputs for up to the drain deadline. Call it once nothing emits
// any more.
func (a *Alerts) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.cur.Load()
	if s.limiter != nil {
		s.limiter.Stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.drain)
	defer cancel()
	return s.disp.Close(ctx)
}
