package detect

import (
	"sync"
	"sync/atomic"

	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/rules/compile"
)

// loaded is everything the event path derives from one program. It is
// swapped as a whole, so an event never sees the rules of one program with
// the type index of another.
type loaded struct {
	prog  *Program
	types *typeIndex
}

// programRef is the program a worker evaluates with. The event path
// compares one pointer per event; only after a swap does it publish the
// new one, which is how SetProgram learns when an old program is no
// longer in use without a lock on the event path.
type programRef struct {
	last  *loaded
	using atomic.Pointer[loaded]
}

// acquire returns the current program and records that the worker uses
// it. Publishing before re-reading cur closes the race with a swap: either
// the swapper sees the worker on the old program (and keeps counting it),
// or the worker sees the new one.
func (r *programRef) acquire(cur *atomic.Pointer[loaded]) *loaded {
	l := cur.Load()
	for l != r.last {
		r.using.Store(l)
		r.last = l
		l = cur.Load()
	}
	return l
}

// SetProgram replaces the rules while events flow: each shard picks the
// new program up at its next event, and an event already being evaluated
// finishes on the old one, so every event is evaluated by exactly one of
// the two. The event path takes no lock for this.
//
// Rule match counts carry over by rule name: a rule the new program keeps
// goes on counting from its old total (Stats), a removed rule stops being
// reported, and one added back later resumes its total. Matches a shard
// still makes on an old program are counted too: an old program's
// counters are read until no shard uses it.
func (d *Detector) SetProgram(p *Program) {
	next := &loaded{prog: p, types: newTypeIndex(p)}
	c := &d.counts
	c.mu.Lock()
	defer c.mu.Unlock()
	// Placeholders first: a shard that already runs the new program must
	// find its rules' output fields resolved.
	old := d.cur.Load().prog
	d.alerts.setProgram(p, old)
	if c.live == nil {
		// The first program's counters are all its own.
		c.live = map[*Program][]uint64{old: make([]uint64, len(old.Rules()))}
		c.base = map[string]uint64{}
	}
	c.track(p)
	d.cur.Store(next)
	d.retireUnused()
}

// Program returns the program in use.
func (d *Detector) Program() *Program { return d.cur.Load().prog }

func (d *Detector) allWorkers() []*worker { return append([]*worker{d.spare}, d.workers...) }

// matchCounts keeps rule match totals across SetProgram. Rule counters
// live in each compiled Rule; a program's share of a rule's total is its
// counter minus what was already folded into base.
type matchCounts struct {
	mu sync.Mutex
	// base holds the matches of programs no longer in use, by rule name.
	base map[string]uint64
	// live are the programs the totals read directly: the current one
	// and retired ones some shard may still be evaluating. Each maps to
	// how much of each rule's counter base already holds.
	live map[*Program][]uint64
}

// track starts reading p's counters, from their current values, unless
// they are read already. Called with mu held.
func (c *matchCounts) track(p *Program) {
	if _, ok := c.live[p]; ok {
		return
	}
	counted := make([]uint64, len(p.Rules()))
	for i, r := range p.Rules() {
		counted[i] = r.Matches()
	}
	c.live[p] = counted
}

// retireUnused folds the programs that are neither current nor used by a
// shard into base. Called with counts.mu held.
func (d *Detector) retireUnused() {
	c := &d.counts
	inUse := map[*Program]bool{d.cur.Load().prog: true}
	for _, w := range d.allWorkers() {
		if l := w.program.using.Load(); l != nil {
			inUse[l.prog] = true
		}
	}
	for p, counted := range c.live {
		if inUse[p] {
			continue
		}
		for i, r := range p.Rules() {
			c.base[r.Name] += r.Matches() - counted[i]
		}
		delete(c.live, p)
	}
}

// ruleStats returns the enabled rules of the current program with their
// totals.
func (d *Detector) ruleStats() []RuleStats {
	c := &d.counts
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := d.cur.Load().prog
	var others map[string]uint64 // matches of live programs other than cur
	if c.live != nil {
		d.retireUnused()
		for p, counted := range c.live {
			if p == cur {
				continue
			}
			if others == nil {
				others = map[string]uint64{}
			}
			for i, r := range p.Rules() {
				others[r.Name] += r.Matches() - counted[i]
			}
		}
	}
	var out []RuleStats
	for i, r := range cur.Rules() {
		if !r.Enabled {
			continue
		}
		n := r.Matches()
		if counted, ok := c.live[cur]; ok {
			n = c.base[r.Name] + others[r.Name] + n - counted[i]
		}
		out = append(out, RuleStats{Name: r.Name, Matches: n})
	}
	return out
}

// placeholderMap caches each rule's output placeholders, which
// compile.Output computes with allocations.
type placeholderMap map[*Rule][]compile.Placeholder[*fields.Context]

// setProgram caches p's placeholders, keeping those of prev (the program
// being replaced) for alerts still being built from it.
func (b *alertBuilder) setProgram(p, prev *Program) {
	m := placeholderMap{}
	for _, prog := range []*Program{prev, p} {
		if prog == nil {
			continue
		}
		for _, r := range prog.Rules() {
			m[r] = r.Output.Placeholders()
		}
	}
	b.placeholders.Store(&m)
}

// placeholdersOf returns r's placeholders, computing them for a rule of
// an older program.
func (b *alertBuilder) placeholdersOf(r *Rule) []compile.Placeholder[*fields.Context] {
	if ph, ok := (*b.placeholders.Load())[r]; ok {
		return ph
	}
	return r.Output.Placeholders()
}
