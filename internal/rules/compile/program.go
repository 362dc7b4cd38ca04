package compile

import (
	"sync/atomic"

	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/rules/loader"
)

// EventType identifies an event type for Program.Match. Get it from
// Program.EventType once per type name, not per event.
type EventType uint32

// OtherTypes is the EventType of every type no rule names.
const OtherTypes EventType = 0

// Program is a compiled rule set. It is immutable and safe for concurrent
// use; only the rules' counters change.
type Program[C any] struct {
	rules   []*Rule[C]
	byName  map[string]*Rule[C]
	types   map[string]EventType
	names   []string // by EventType; names[0] is ""
	buckets [][]*Rule[C]
	// conds holds, beside each bucket's rules, their conditions as they
	// evaluate for that bucket's type (see specialize).
	conds [][]func(C) bool
	// gate reads the gate field, and gates holds each bucket's name
	// gate, nil where it has none (see gate.go).
	gate  func(C) (string, bool)
	gates []*gateIndex
	// firstMatch stops Match at the first matching rule; lastAction is,
	// per bucket, one past the last rule with an action, which Match
	// still evaluates after the first match.
	firstMatch bool
	lastAction []int
}

// Rule is a compiled rule.
type Rule[C any] struct {
	Name      string
	Desc      string
	Priority  loader.Priority
	Tags      []string
	Source    string
	Pos       lang.Pos
	Enabled   bool
	Condition string // the expanded condition, as text
	Output    *Output[C]
	Types     TypeSet // the event types the rule can match
	// Action, ActionPos and Mode are the rule's enforcement keys.
	Action    loader.Action
	ActionPos lang.Pos
	Mode      loader.Mode
	// Expr is the expanded condition, for analyses such as compiling an
	// enforcement rule to a kernel policy. It must not be modified.
	Expr lang.Expr

	full    func(C) bool // the whole condition
	indexed func(C) bool // without the evt.type tests the index settles
	// byType is the condition as it evaluates for each named type the
	// rule is indexed under, its evt.type tests decided (nil: indexed).
	byType map[string]func(C) bool
	// gateNames are the values the gate field must take for the rule to
	// match; nil when the rule has no such test.
	gateNames []string
	matches   atomic.Uint64
}

// Eval evaluates the rule's whole condition, event type included, without
// counting; Program.Match is the fast path.
func (r *Rule[C]) Eval(c C) bool { return r.full(c) }

// Matches returns how many events the rule matched through Program.Match.
func (r *Rule[C]) Matches() uint64 { return r.matches.Load() }

// Rules returns every compiled rule, enabled or not, in load order.
func (p *Program[C]) Rules() []*Rule[C] { return p.rules }

// Rule returns the named rule, or nil.
func (p *Program[C]) Rule(name string) *Rule[C] { return p.byName[name] }

// EventType returns the identifier for an event type name such as
// "execve"; names no rule mentions share OtherTypes.
func (p *Program[C]) EventType(name string) EventType { return p.types[name] }

// EventTypeNames returns the type names some rule mentions, indexed by
// EventType (entry 0, OtherTypes, is "").
func (p *Program[C]) EventTypeNames() []string { return p.names }

// RulesFor returns the enabled rules an event of type t is tested against.
func (p *Program[C]) RulesFor(t EventType) []*Rule[C] {
	return p.buckets[p.bucket(t)]
}

// Match evaluates every rule that can match an event of type t, which must
// be the event's own evt.type, and appends those that match to dst, in
// load order. With FirstMatch it stops at the first match, except that
// rules with an action (block, kill) after it are still evaluated: a rule
// order that shadows an enforcement rule must not switch enforcement off.
// With a dst of enough capacity it does not allocate.
func (p *Program[C]) Match(c C, t EventType, dst []*Rule[C]) []*Rule[C] {
	t = p.bucket(t)
	conds, rules := p.conds[t], p.buckets[t]
	if g := p.gates[t]; g != nil {
		list := g.plain
		if name, ok := p.gate(c); ok {
			if l, ok := g.byName[name]; ok {
				list = l
			}
		}
		for _, i := range list {
			if conds[i](c) {
				rules[i].matches.Add(1)
				dst = append(dst, rules[i])
				if p.firstMatch {
					return p.matchActions(c, t, int(i)+1, dst)
				}
			}
		}
		return dst
	}
	for i, r := range rules {
		if conds[i](c) {
			r.matches.Add(1)
			dst = append(dst, r)
			if p.firstMatch {
				return p.matchActions(c, t, i+1, dst)
			}
		}
	}
	return dst
}

// matchActions appends the rules with an action that match, among the
// rules of bucket t from index from on. It ignores the name gate, which
// only skips conditions that cannot hold.
func (p *Program[C]) matchActions(c C, t EventType, from int, dst []*Rule[C]) []*Rule[C] {
	conds, rules := p.conds[t], p.buckets[t]
	for i := from; i < p.lastAction[t]; i++ {
		if r := rules[i]; r.Action != loader.ActionAlert && conds[i](c) {
			r.matches.Add(1)
			dst = append(dst, r)
		}
	}
	return dst
}

// FirstMatch reports whether Match stops at the first matching rule.
func (p *Program[C]) FirstMatch() bool { return p.firstMatch }

func (p *Program[C]) bucket(t EventType) EventType {
	if int(t) >= len(p.buckets) {
		return OtherTypes
	}
	return t
}

// index builds the per-type buckets: a rule goes into the bucket of each
// named type its set holds, and into OtherTypes if its set holds types
// no rule names (a negated set).
func (p *Program[C]) index() {
	p.types = map[string]EventType{}
	p.names = []string{""}
	for _, r := range p.rules {
		for _, n := range r.Types.Names() {
			if _, ok := p.types[n]; !ok {
				p.types[n] = EventType(len(p.names))
				p.names = append(p.names, n)
			}
		}
	}
	p.buckets = make([][]*Rule[C], len(p.names))
	p.conds = make([][]func(C) bool, len(p.names))
	p.lastAction = make([]int, len(p.names))
	for _, r := range p.rules {
		if !r.Enabled {
			continue
		}
		for t, n := range p.names {
			if t == int(OtherTypes) && r.Types.Neg || t != int(OtherTypes) && r.Types.Has(n) {
				cond := r.indexed
				if f, ok := r.byType[n]; ok && t != int(OtherTypes) {
					cond = f
				}
				p.buckets[t] = append(p.buckets[t], r)
				p.conds[t] = append(p.conds[t], cond)
				if r.Action != loader.ActionAlert {
					p.lastAction[t] = len(p.buckets[t])
				}
			}
		}
	}
	p.gates = make([]*gateIndex, len(p.names))
	if p.gate == nil {
		return
	}
	for t, rules := range p.buckets {
		gates := make([][]string, len(rules))
		for i, r := range rules {
			gates[i] = r.gateNames
		}
		p.gates[t] = buildGate(gates)
	}
}
