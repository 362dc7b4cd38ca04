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
	matches atomic.Uint64
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
	b := p.bucket(t)
	rules := p.buckets[b]
	for i, r := range rules {
		if r.indexed(c) {
			r.matches.Add(1)
			dst = append(dst, r)
			if p.firstMatch {
				if end := p.lastAction[b]; end > i+1 {
					return p.matchActions(c, rules[i+1:end], dst)
				}
				return dst
			}
		}
	}
	return dst
}

// matchActions appends the rules with an action among rules that match.
func (p *Program[C]) matchActions(c C, rules []*Rule[C], dst []*Rule[C]) []*Rule[C] {
	for _, r := range rules {
		if r.Action != loader.ActionAlert && r.indexed(c) {
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
	p.lastAction = make([]int, len(p.names))
	for _, r := range p.rules {
		if !r.Enabled {
			continue
		}
		for t, n := range p.names {
			if t == int(OtherTypes) && r.Types.Neg || t != int(OtherTypes) && r.Types.Has(n) {
				p.buckets[t] = append(p.buckets[t], r)
				if r.Action != loader.ActionAlert {
					p.lastAction[t] = len(p.buckets[t])
				}
			}
		}
	}
}
