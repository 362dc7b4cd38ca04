package outputs

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/config"
)

// Manager owns the alert path after the detector, the rate limiter and
// the outputs, and replaces it when a reload brings a new configuration
// (Prepare, then Commit) while alerts flow. Emit never blocks and no
// alert is handed to an output that is already closing. Counters carry
// over by output name, so /metrics never sees them go backwards.
type Manager struct {
	stdout io.Writer // where the stdout output writes
	log    *slog.Logger
	drain  time.Duration
	cur    atomic.Pointer[stage]
	// forward, when set, also receives every alert the outputs receive
	// (past the rate limit): the transport to the central service.
	forward atomic.Pointer[func(*alert.Alert) bool]

	mu  sync.Mutex // serializes Prepare/Commit and Close
	cfg config.Config

	statsMu  sync.Mutex
	retiring []*stage // swapped out, still draining: counted as they are
	// Totals of the stages already closed.
	outputs    map[string]Stats
	emitter    alert.DeliveryStats
	suppressed uint64
}

// stage is one limiter and dispatcher pair. inflight counts Emit calls
// inside it, so a swap knows when the old one can be closed.
type stage struct {
	disp    *Dispatcher
	limiter *Limiter
	// sharedDisp is set when the stage reuses the previous stage's
	// dispatcher (only the rate limit changed): retiring the previous
	// stage must then not close it.
	sharedDisp bool
	inflight   atomic.Int64
	// minSeverity is the configured priority's syslog severity: alerts
	// less severe are not emitted (rules below it do not even load; this
	// covers the agent's own alerts).
	minSeverity int
}

func (m *Manager) emit(s *stage, a *alert.Alert) bool {
	if !alert.AtLeast(a.Priority, s.minSeverity) {
		return true
	}
	if s.limiter != nil {
		return s.limiter.Emit(a)
	}
	return m.deliver(s, a)
}

// deliver hands an alert to the stage's outputs and to the forward.
func (m *Manager) deliver(s *stage, a *alert.Alert) bool {
	ok := s.disp.Emit(a)
	if f := m.forward.Load(); f != nil && !(*f)(a) {
		ok = false
	}
	return ok
}

// Forward makes fn receive every alert the outputs receive, past the rate
// limit, until the Manager closes; fn must not block. It is how alerts
// reach the central service, which is not an output a reload replaces.
func (m *Manager) Forward(fn func(*alert.Alert) bool) { m.forward.Store(&fn) }

// NewManager starts the outputs and rate limit of cfg; the stdout output
// writes to stdout, and alerts the outputs fail to deliver are logged to
// log (nil: not logged). drain bounds how long replaced (and, on Close,
// the last) outputs may take to deliver what they hold.
func NewManager(cfg *config.Config, stdout io.Writer, drain time.Duration, log *slog.Logger) (*Manager, error) {
	m := &Manager{stdout: stdout, log: log, drain: drain, outputs: map[string]Stats{}}
	s, err := m.newStage(cfg, nil)
	if err != nil {
		return nil, err
	}
	m.cfg = *cfg
	m.cur.Store(s)
	return m, nil
}

func (m *Manager) newStage(cfg *config.Config, prev *stage) (*stage, error) {
	s := &stage{minSeverity: 7}
	if sev, ok := alert.Severity(cfg.Priority); ok {
		s.minSeverity = sev
	}
	if prev != nil && reflect.DeepEqual(cfg.Outputs, m.cfg.Outputs) {
		s.disp, s.sharedDisp = prev.disp, true
	} else {
		d, err := Build(cfg.Outputs, m.stdout, m.log)
		if err != nil {
			return nil, err
		}
		s.disp = d
	}
	if rl := cfg.RateLimit; rl.Enabled {
		s.limiter = NewLimiter(LimitConfig{Rate: rl.Rate, Burst: rl.Burst, PerContainer: rl.PerContainer,
			Window: time.Duration(rl.Window)}, func(a *alert.Alert) bool { return m.deliver(s, a) }, nil)
		s.limiter.Start()
	}
	return s, nil
}

// Emit hands an alert to the rate limiter or, without one, the outputs.
// It is the detector's Emit.
func (m *Manager) Emit(al *alert.Alert) bool {
	return m.enter(func(s *stage) bool { return m.emit(s, al) })
}

// EmitUnlimited hands an alert straight to the outputs, for alerts that
// limit themselves (the kernel drop alert).
func (m *Manager) EmitUnlimited(al *alert.Alert) bool {
	return m.enter(func(s *stage) bool {
		if !alert.AtLeast(al.Priority, s.minSeverity) {
			return true
		}
		return m.deliver(s, al)
	})
}

// enter runs fn on the current stage, counted in its inflight. The
// re-check after counting closes the race with a swap: either the swapper
// sees the count and waits, or this call sees the new stage.
func (m *Manager) enter(fn func(*stage) bool) bool {
	for {
		s := m.cur.Load()
		s.inflight.Add(1)
		if m.cur.Load() == s {
			ok := fn(s)
			s.inflight.Add(-1)
			return ok
		}
		s.inflight.Add(-1)
	}
}

// Pending is a new alert path built by Prepare, not in use yet.
type Pending struct {
	m   *Manager
	s   *stage
	cfg config.Config
}

// Prepare builds the alert path cfg describes, if its outputs, rate
// limit or minimum priority differ from the running ones; it returns nil when nothing changed.
// Nothing running is touched: Commit switches, Discard drops it.
func (m *Manager) Prepare(cfg *config.Config) (*Pending, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if reflect.DeepEqual(cfg.Outputs, m.cfg.Outputs) && reflect.DeepEqual(cfg.RateLimit, m.cfg.RateLimit) &&
		cfg.Priority == m.cfg.Priority {
		return nil, nil
	}
	s, err := m.newStage(cfg, m.cur.Load())
	if err != nil {
		return nil, err
	}
	return &Pending{m: m, s: s, cfg: *cfg}, nil
}

// Discard stops what Prepare started and returns what failed to close.
func (p *Pending) Discard() error {
	if p == nil {
		return nil
	}
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	return closeStage(p.s, !p.s.sharedDisp, p.m.drain)
}

// Commit makes the prepared path current and retires the old one: it
// waits for Emit calls inside it to return, lets its limiter report what
// it suppressed, and drains its outputs for up to the drain deadline. New
// alerts go to the new path meanwhile. It returns what failed in closing
// the old outputs; the new path is current either way.
func (p *Pending) Commit() error {
	if p == nil {
		return nil
	}
	m := p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	m.statsMu.Lock()
	old := m.cur.Swap(p.s)
	m.retiring = append(m.retiring, old)
	m.statsMu.Unlock()
	m.cfg = p.cfg
	for old.inflight.Load() != 0 {
		time.Sleep(50 * time.Microsecond) // an Emit is a few non-blocking enqueues
	}
	// When the new stage kept the dispatcher, only the limiter goes.
	err := closeStage(old, !p.s.sharedDisp, m.drain)
	m.retire(old, !p.s.sharedDisp)
	return err
}

// closeStage stops the limiter (its last summaries go to the outputs)
// and, with closeDisp, drains and closes the dispatcher.
func closeStage(s *stage, closeDisp bool, drain time.Duration) error {
	if s.limiter != nil {
		s.limiter.Stop()
	}
	if !closeDisp {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	return s.disp.Close(ctx)
}

// retire moves a closed stage's counters into the totals; withOutputs is
// false when its dispatcher is still in use (and counted) by the current
// stage.
func (m *Manager) retire(s *stage, withOutputs bool) {
	m.statsMu.Lock()
	defer m.statsMu.Unlock()
	for i, r := range m.retiring {
		if r == s {
			m.retiring = append(m.retiring[:i], m.retiring[i+1:]...)
			break
		}
	}
	if s.limiter != nil {
		m.suppressed += s.limiter.Suppressed()
	}
	if !withOutputs {
		return
	}
	for _, st := range s.disp.Stats() {
		m.outputs[st.Output] = addStats(m.outputs[st.Output], st)
	}
	e := s.disp.EmitterStats()
	m.emitter.Emitted += e.Emitted
	m.emitter.Dropped += e.Dropped
	m.emitter.Written += e.Written
	m.emitter.Errors += e.Errors
}

func addStats(a, b Stats) Stats {
	return Stats{Output: b.Output, Sent: a.Sent + b.Sent, Failed: a.Failed + b.Failed,
		Dropped: a.Dropped + b.Dropped, Retries: a.Retries + b.Retries, Queued: a.Queued + b.Queued}
}

// stages returns the stages whose dispatchers are counted live: the
// current one and those retiring, each dispatcher once. Called with
// statsMu held.
func (m *Manager) stages() []*stage {
	out := []*stage{m.cur.Load()}
	for _, s := range m.retiring {
		if s.disp != out[0].disp {
			out = append(out, s)
		}
	}
	return out
}

// Stats returns every output's counters since start, by output name: the
// running outputs first, in configuration order, then those a reload
// removed.
func (m *Manager) Stats() []Stats {
	m.statsMu.Lock()
	defer m.statsMu.Unlock()
	sum := map[string]Stats{}
	var order []string
	add := func(st Stats) {
		if _, ok := sum[st.Output]; !ok {
			order = append(order, st.Output)
		}
		sum[st.Output] = addStats(sum[st.Output], st)
	}
	for _, s := range m.stages() {
		for _, st := range s.disp.Stats() {
			add(st)
		}
	}
	var gone []string
	for name := range m.outputs {
		if _, ok := sum[name]; !ok {
			gone = append(gone, name)
		}
	}
	sort.Strings(gone)
	for name, st := range m.outputs {
		if _, ok := sum[name]; ok {
			sum[name] = addStats(sum[name], st)
		}
	}
	for _, name := range gone {
		add(m.outputs[name])
	}
	out := make([]Stats, len(order))
	for i, name := range order {
		out[i] = sum[name]
	}
	return out
}

// EmitterStats sums the alert path's totals since start.
func (m *Manager) EmitterStats() alert.DeliveryStats {
	m.statsMu.Lock()
	defer m.statsMu.Unlock()
	e := m.emitter
	for _, s := range m.stages() {
		st := s.disp.EmitterStats()
		e.Emitted += st.Emitted
		e.Dropped += st.Dropped
		e.Written += st.Written
		e.Errors += st.Errors
	}
	return e
}

// Suppressed is how many alerts the rate limits held back since start.
func (m *Manager) Suppressed() uint64 {
	m.statsMu.Lock()
	defer m.statsMu.Unlock()
	n := m.suppressed
	for _, s := range append([]*stage{m.cur.Load()}, m.retiring...) {
		if s.limiter != nil {
			n += s.limiter.Suppressed()
		}
	}
	return n
}

// Close stops the rate limit (reporting what it suppressed) and drains
// the outputs for up to the drain deadline. Call it once nothing emits
// any more.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.cur.Load()
	if s.limiter != nil {
		s.limiter.Stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.drain)
	defer cancel()
	return s.disp.Close(ctx)
}
