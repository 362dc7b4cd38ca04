package compile

import "github.com/vigilsec/vigil/internal/rules/lang"

// Per-type specialization. A rule for several event types often tests
// evt.type below an or, one branch per type (an open branch and a rename
// branch, say). The type index knows the event's type before any rule
// runs, so for each type a rule is indexed under, those nested tests are
// decided once, at compile time, and the dead branches dropped: an open
// event never pays for the rename branch's tests.

// truth is what a sub-expression is known to be for one event type.
type truth int8

const (
	unknown truth = iota // depends on the event
	isTrue
	isFalse
)

// specialize returns e as it evaluates for events of type typ: every
// evt.type test in it is replaced by its outcome, and the and, or and not
// above it are simplified. The expression is returned only when the truth
// is unknown; it is e itself when nothing changed.
func specialize(e lang.Expr, field, typ string) (lang.Expr, truth) {
	switch x := e.(type) {
	case *lang.AndExpr:
		return specializeTerms(x, x.Terms, field, typ, isFalse)
	case *lang.OrExpr:
		return specializeTerms(x, x.Terms, field, typ, isTrue)
	case *lang.NotExpr:
		r, v := specialize(x.X, field, typ)
		switch {
		case v == isTrue:
			return nil, isFalse
		case v == isFalse:
			return nil, isTrue
		case r == x.X:
			return x, unknown
		}
		return &lang.NotExpr{NotPos: x.NotPos, X: r}, unknown
	case *lang.CompareExpr:
		if ts, ok := typeLeaf(x, field); ok {
			if ts.Has(typ) {
				return nil, isTrue
			}
			return nil, isFalse
		}
	}
	return e, unknown
}

// specializeTerms simplifies an and (decisive = isFalse) or an or
// (decisive = isTrue): a term with the decisive truth decides the whole,
// terms with the other truth are dropped.
func specializeTerms(e lang.Expr, terms []lang.Expr, field, typ string, decisive truth) (lang.Expr, truth) {
	var keep []lang.Expr
	changed := false
	for _, t := range terms {
		r, v := specialize(t, field, typ)
		switch v {
		case decisive:
			return nil, decisive
		case unknown:
			keep = append(keep, r)
			changed = changed || r != t
		default:
			changed = true
		}
	}
	switch {
	case len(keep) == 0:
		if decisive == isFalse {
			return nil, isTrue // an and of true terms
		}
		return nil, isFalse // an or of false terms
	case len(keep) == 1:
		return keep[0], unknown
	case !changed:
		return e, unknown
	case decisive == isFalse:
		return &lang.AndExpr{Terms: keep}, unknown
	}
	return &lang.OrExpr{Terms: keep}, unknown
}

// specializeByType compiles, for each type in names, the rule's
// condition as it evaluates for that type. Types whose specialized
// condition reads the same share one closure; if anything fails to
// compile, the generic closure is used.
func specializeByType[C any](e lang.Expr, field string, names []string, generic func(C) bool, r FieldResolver[C]) map[string]func(C) bool {
	out := make(map[string]func(C) bool, len(names))
	byText := map[string]func(C) bool{}
	for _, n := range names {
		rest, v := specialize(e, field, n)
		switch v {
		case isTrue:
			out[n] = always[C]
			continue
		case isFalse:
			out[n] = never[C]
			continue
		}
		key := lang.Format(rest)
		f, ok := byText[key]
		if !ok {
			var err error
			if f, err = Condition(rest, r); err != nil {
				f = generic
			}
			byText[key] = f
		}
		out[n] = f
	}
	return out
}

// hasNestedTypeTest reports whether e tests the event type anywhere but
// in its top-level conjuncts, which the index settles already: only then
// is specializing worth its closures.
func hasNestedTypeTest(e lang.Expr, field string) bool {
	if a, ok := e.(*lang.AndExpr); ok {
		for _, t := range flatten(a.Terms, true) {
			if !isTypeTest(t, field) && containsTypeTest(t, field) {
				return true
			}
		}
		return false
	}
	return !isTypeTest(e, field) && containsTypeTest(e, field)
}

func containsTypeTest(e lang.Expr, field string) bool {
	switch x := e.(type) {
	case *lang.AndExpr:
		for _, t := range x.Terms {
			if containsTypeTest(t, field) {
				return true
			}
		}
	case *lang.OrExpr:
		for _, t := range x.Terms {
			if containsTypeTest(t, field) {
				return true
			}
		}
	case *lang.NotExpr:
		return containsTypeTest(x.X, field)
	case *lang.CompareExpr:
		_, ok := typeLeaf(x, field)
		return ok
	}
	return false
}
