package compile

import (
	"sort"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// TypeSet is the set of event types a condition can match: the named
// types, or with Neg every type except the named ones. The zero value is
// the empty set; TypeSet{Neg: true} is every type.
type TypeSet struct {
	Neg   bool
	names map[string]struct{}
}

func typeSetOf(names ...string) TypeSet {
	s := TypeSet{names: make(map[string]struct{}, len(names))}
	for _, n := range names {
		s.names[n] = struct{}{}
	}
	return s
}

// All reports whether the set holds every event type.
func (s TypeSet) All() bool { return s.Neg && len(s.names) == 0 }

// Empty reports whether no event type is in the set.
func (s TypeSet) Empty() bool { return !s.Neg && len(s.names) == 0 }

// Has reports whether the named type is in the set.
func (s TypeSet) Has(name string) bool {
	_, ok := s.names[name]
	return ok != s.Neg
}

// Names returns the named types, sorted: those in the set, or with Neg
// those excluded from it.
func (s TypeSet) Names() []string {
	out := make([]string, 0, len(s.names))
	for n := range s.names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (s TypeSet) complement() TypeSet { return TypeSet{Neg: !s.Neg, names: s.names} }

func (s TypeSet) union(t TypeSet) TypeSet {
	switch {
	case !s.Neg && !t.Neg:
		return typeSetOf(append(s.Names(), t.Names()...)...)
	case s.Neg && t.Neg:
		return s.complement().intersect(t.complement()).complement()
	case s.Neg:
		return t.union(s)
	}
	// s positive, t negative: everything but what t excludes and s lacks.
	return t.complement().minus(s).complement()
}

func (s TypeSet) intersect(t TypeSet) TypeSet {
	switch {
	case !s.Neg && !t.Neg:
		var both []string
		for n := range s.names {
			if _, ok := t.names[n]; ok {
				both = append(both, n)
			}
		}
		return typeSetOf(both...)
	case s.Neg && t.Neg:
		return s.complement().union(t.complement()).complement()
	case s.Neg:
		return t.intersect(s)
	}
	return s.minus(t.complement())
}

// minus removes t's names from positive set s.
func (s TypeSet) minus(t TypeSet) TypeSet {
	var keep []string
	for n := range s.names {
		if _, ok := t.names[n]; !ok {
			keep = append(keep, n)
		}
	}
	return typeSetOf(keep...)
}

// eventTypes computes the types e can match, as Falco's event type
// resolver does: and intersects, or unites, and not is pushed down to the
// leaves by De Morgan (neg says an odd number of nots is above). Only
// evt.type tests with =, !=, in and intersects restrict; anything else
// may hold for any type.
func eventTypes(e lang.Expr, field string, neg bool) TypeSet {
	switch x := e.(type) {
	case *lang.AndExpr, *lang.OrExpr:
		terms, isAnd := andOrTerms(x)
		var acc TypeSet
		for i, t := range terms {
			ts := eventTypes(t, field, neg)
			switch {
			case i == 0:
				acc = ts
			case isAnd != neg:
				acc = acc.intersect(ts)
			default:
				acc = acc.union(ts)
			}
		}
		return acc
	case *lang.NotExpr:
		return eventTypes(x.X, field, !neg)
	case *lang.CompareExpr:
		if ts, ok := typeLeaf(x, field); ok {
			if neg {
				return ts.complement()
			}
			return ts
		}
	}
	return TypeSet{Neg: true}
}

func andOrTerms(e lang.Expr) ([]lang.Expr, bool) {
	if a, ok := e.(*lang.AndExpr); ok {
		return a.Terms, true
	}
	return e.(*lang.OrExpr).Terms, false
}

// typeLeaf returns the exact set of types for which an evt.type test
// holds, if it is one.
func typeLeaf(x *lang.CompareExpr, field string) (TypeSet, bool) {
	f, ok := x.Left.(*lang.FieldRef)
	if !ok || f.Name != field || f.Arg != nil {
		return TypeSet{}, false
	}
	switch v := x.Right.(type) {
	case *lang.Literal:
		switch x.Op {
		case lang.OpEq:
			return typeSetOf(v.Text), true
		case lang.OpNe:
			return typeSetOf(v.Text).complement(), true
		}
	case *lang.ListLit:
		if x.Op == lang.OpIn || x.Op == lang.OpIntersects {
			return typeSetOf(texts(v.Items)...), true
		}
	}
	return TypeSet{}, false
}

// isTypeTest reports whether e is an evt.type test, possibly negated,
// whose outcome the type index alone decides.
func isTypeTest(e lang.Expr, field string) bool {
	switch x := e.(type) {
	case *lang.NotExpr:
		return isTypeTest(x.X, field)
	case *lang.CompareExpr:
		_, ok := typeLeaf(x, field)
		return ok
	}
	return false
}

// withoutTypeTests drops the top-level conjuncts that are evt.type tests.
// The rule's type set is the intersection of theirs, so for any event the
// index hands this rule they are true: testing them again is waste. It
// returns nil when nothing is left to test.
func withoutTypeTests(e lang.Expr, field string) lang.Expr {
	if isTypeTest(e, field) {
		return nil
	}
	a, ok := e.(*lang.AndExpr)
	if !ok {
		return e
	}
	var keep []lang.Expr
	for _, t := range flatten(a.Terms, true) {
		if !isTypeTest(t, field) {
			keep = append(keep, t)
		}
	}
	switch len(keep) {
	case 0:
		return nil
	case 1:
		return keep[0]
	}
	return &lang.AndExpr{Terms: keep}
}
