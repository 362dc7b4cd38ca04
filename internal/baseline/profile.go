package baseline

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil/internal/workload"
)

// maxPending bounds what one workload may have waiting for the next
// flush; more is dropped and counted (it is seen again and learned then).
const maxPending = 4096

// maxAlerted bounds the departures one workload remembers for
// RepeatAfter; past it the memory is cleared.
const maxAlerted = 1024

// profile is one workload's baseline and mode. The view and the mode are
// read without a lock; the rest is under mu and touched only off the
// common path (something new).
type profile struct {
	w    *workload.Workload
	mode atomic.Uint32
	view atomic.Pointer[view]

	// Times in Unix nanoseconds.
	created     int64 // immutable
	learnSince  atomic.Int64
	modeChanged atomic.Int64
	lastChange  atomic.Int64

	// wmu serialises the writers of view and mode (flush, commands);
	// readers need no lock.
	wmu sync.Mutex

	mu         sync.Mutex
	pending    [NumDimensions][]Item
	pendSeen   map[Fact]struct{}
	nPending   int
	alerted    map[Fact]int64 // departure -> time of its alert
	tokens     float64
	tokensAt   int64
	suppressed int // drift alerts not raised since the last one
}

func newProfile(w *workload.Workload, m Mode, now int64) *profile {
	p := &profile{w: w, created: now, pendSeen: map[Fact]struct{}{}}
	p.mode.Store(uint32(m))
	p.view.Store(emptyView)
	p.learnSince.Store(now)
	p.modeChanged.Store(now)
	p.lastChange.Store(now)
	return p
}

func (p *profile) getMode() Mode { return Mode(p.mode.Load()) }

// learn queues f for the next flush. It reports false when the queue is
// full.
func (p *profile) learn(f *Fact) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.pendSeen[*f]; ok {
		return true
	}
	if p.nPending >= maxPending {
		return false
	}
	its := f.items()
	p.pendSeen[cloneFact(f)] = struct{}{}
	for _, it := range its {
		p.pending[f.Dim] = append(p.pending[f.Dim], it)
		p.nPending++
	}
	return true
}

// takePending returns and clears what waits for a flush.
func (p *profile) takePending() ([NumDimensions][]Item, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.nPending == 0 {
		return [NumDimensions][]Item{}, false
	}
	out := p.pending
	p.pending = [NumDimensions][]Item{}
	p.nPending = 0
	// A new map, not clear: a cleared map keeps its buckets, and the
	// first minutes of learning would pin them for the workload's life.
	p.pendSeen = map[Fact]struct{}{}
	return out, true
}

// dropPending forgets what waits (a reset or an import replaced it).
func (p *profile) dropPending() { p.takePending() }

// shouldAlert decides whether a departure raises an alert now: the same
// departure (as generalisation would write it) stays quiet for
// repeatAfter, and one workload raises at most burst alerts at once and
// perMinute after that. It returns the number of alerts suppressed since
// the last one raised.
func (p *profile) shouldAlert(f *Fact, now int64, a Alerts) (bool, int) {
	key := dedupeKey(f)
	p.mu.Lock()
	defer p.mu.Unlock()
	if at, ok := p.alerted[key]; ok && now-at < int64(a.RepeatAfter) {
		return false, 0
	}
	// Refill the bucket.
	if p.tokensAt == 0 {
		p.tokens = float64(a.Burst)
	} else {
		p.tokens = min(float64(a.Burst), p.tokens+float64(now-p.tokensAt)/float64(time.Minute)*float64(a.PerMinute))
	}
	p.tokensAt = now
	if p.alerted == nil || len(p.alerted) >= maxAlerted {
		p.alerted = make(map[Fact]int64)
	}
	p.alerted[cloneFact(&key)] = now
	if p.tokens < 1 {
		p.suppressed++
		return false, 0
	}
	p.tokens--
	n := p.suppressed
	p.suppressed = 0
	return true, n
}

// dedupeKey is the departure as generalisation would write it, so that a
// burst of random names raises one alert, not one per name.
func dedupeKey(f *Fact) Fact {
	k := *f
	switch f.Dim {
	case DimExec, DimFileWrite, DimFileRead:
		k.Path = Normalise(f.Path)
	case DimExecEdge:
		k.Path, k.Parent = Normalise(f.Path), Normalise(f.Parent)
	case DimInbound:
		// Clients come from anywhere: one alert per local port.
		k.Addr = k.Addr.Unmap()
		if p, err := k.Addr.Prefix(16); err == nil && k.Addr.Is4() {
			k.Addr = p.Addr()
		}
	}
	return k
}

func cloneFact(f *Fact) Fact {
	c := *f
	c.Path, c.Parent = strings.Clone(f.Path), strings.Clone(f.Parent)
	c.Identity, c.Name = strings.Clone(f.Identity), strings.Clone(f.Name)
	return c
}
