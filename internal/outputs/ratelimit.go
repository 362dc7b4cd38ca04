package outputs

import (
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
)

// SuppressedRule is the rule name of summary alerts, so that tools can
// route or silence them like any rule.
const SuppressedRule = "Alerts suppressed by rate limit"

// LimitConfig configures a Limiter.
type LimitConfig struct {
	// Rate is how many alerts per second a rule (or rule and container)
	// may sustain, and Burst how many it may send at once. Rate <= 0
	// means no refill: only Burst alerts per summary window.
	Rate  float64
	Burst int
	// PerContainer keys the buckets by rule and container id, so one
	// noisy container does not silence a rule everywhere.
	PerContainer bool
	// Window is how often summaries of suppressed alerts are emitted;
	// <= 0 means one minute.
	Window time.Duration
}

// Limiter is a token-bucket rate limit per rule in front of the outputs.
// Suppressed alerts are counted per key and reported by Flush as one
// summary alert per key, so a flood is visible without drowning the
// outputs. Allow is safe for concurrent use.
type Limiter struct {
	cfg  LimitConfig
	emit func(*alert.Alert) bool
	now  func() time.Time

	mu      sync.Mutex
	buckets map[limitKey]*bucket

	suppressed atomic.Uint64
	stop       chan struct{}
	done       chan struct{}
}

type limitKey struct{ rule, container string }

type bucket struct {
	tokens     float64
	last       time.Time
	suppressed uint64
	// sample is the first suppressed alert of the window: its priority,
	// source and hostname go into the summary.
	sample *alert.Alert
}

// NewLimiter returns a limiter passing allowed alerts, and summaries, to
// emit. now is the clock; nil means time.Now. It does not start the
// periodic summaries: see Start.
func NewLimiter(cfg LimitConfig, emit func(*alert.Alert) bool, now func() time.Time) *Limiter {
	if cfg.Burst < 1 {
		cfg.Burst = 1
	}
	if cfg.Window <= 0 {
		cfg.Window = time.Minute
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{cfg: cfg, emit: emit, now: now, buckets: map[limitKey]*bucket{}}
}

// Emit passes a on when its bucket has a token, and otherwise counts it
// for the next summary. It returns false only when the outputs dropped
// it: a suppressed alert is accounted for, not lost.
func (l *Limiter) Emit(a *alert.Alert) bool {
	k := limitKey{rule: a.Rule}
	if l.cfg.PerContainer {
		k.container = a.Context.Identity.ContainerID
	}
	now := l.now()
	l.mu.Lock()
	b := l.buckets[k]
	if b == nil {
		b = &bucket{tokens: float64(l.cfg.Burst), last: now}
		l.buckets[k] = b
	}
	if l.cfg.Rate > 0 {
		b.tokens = min(float64(l.cfg.Burst), b.tokens+now.Sub(b.last).Seconds()*l.cfg.Rate)
	}
	b.last = now
	ok := b.tokens >= 1
	if ok {
		b.tokens--
	} else {
		b.suppressed++
		if b.sample == nil {
			b.sample = a
		}
	}
	l.mu.Unlock()
	if !ok {
		l.suppressed.Add(1)
		return true
	}
	return l.emit(a)
}

// Suppressed is how many alerts the limiter has held back in all.
func (l *Limiter) Suppressed() uint64 { return l.suppressed.Load() }

// Flush emits one summary alert per key that suppressed alerts since the
// last Flush, in a stable order, and forgets buckets that are full again
// so that the map does not grow with every container ever seen.
func (l *Limiter) Flush() {
	now := l.now()
	var out []*alert.Alert
	l.mu.Lock()
	for k, b := range l.buckets {
		if b.suppressed > 0 {
			out = append(out, l.summary(k, b, now))
			b.suppressed, b.sample = 0, nil
		} else if l.cfg.Rate > 0 && b.tokens+now.Sub(b.last).Seconds()*l.cfg.Rate >= float64(l.cfg.Burst) {
			delete(l.buckets, k)
		}
	}
	l.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Output < out[j].Output })
	for _, a := range out {
		l.emit(a)
	}
}

func (l *Limiter) summary(k limitKey, b *bucket, now time.Time) *alert.Alert {
	// "60s", not Duration's "1m0s": the summary is read by people.
	window := strconv.FormatFloat(l.cfg.Window.Seconds(), 'f', -1, 64) + "s"
	out := fmt.Sprintf("rule %s: %d alerts suppressed in the last %s", k.rule, b.suppressed, window)
	fields := map[string]any{"suppressed.rule": k.rule, "suppressed.count": b.suppressed, "suppressed.window": window,
		"suppressed.source": b.sample.Source}
	if l.cfg.PerContainer {
		out = fmt.Sprintf("rule %s (container %s): %d alerts suppressed in the last %s", k.rule, k.container, b.suppressed, window)
		fields["container.id"] = k.container
	}
	return &alert.Alert{
		Time: now.UTC(), Rule: SuppressedRule, Priority: b.sample.Priority, Source: alert.InternalSource,
		Hostname: b.sample.Hostname, Output: out, Tags: []string{"vigil", "rate_limit"}, OutputFields: fields,
	}
}

// Start emits summaries every Window until Stop.
func (l *Limiter) Start() {
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(l.done)
		t := time.NewTicker(l.cfg.Window)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				l.Flush()
			case <-l.stop:
				return
			}
		}
	}()
}

// Stop ends the periodic summaries and emits a last one, so alerts
// suppressed just before shutdown are still reported.
func (l *Limiter) Stop() {
	if l.stop != nil {
		close(l.stop)
		<-l.done
		l.stop = nil
	}
	l.Flush()
}
