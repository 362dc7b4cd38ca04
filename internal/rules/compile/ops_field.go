package compile

import (
	"fmt"
	"strings"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// typeClass groups types that compare with each other through val().
func typeClass(t FieldType) FieldType {
	switch t {
	case TypeBytes:
		return TypeString
	case TypeIPNet:
		return TypeIPAddr
	}
	return t
}

// compareFields compares two fields of the same event, as in
// proc.name = val(proc.pname). Both must have values.
func compareFields[C any](l, r Field[C], x *lang.CompareExpr) (func(C) bool, error) {
	if typeClass(l.Type) != typeClass(r.Type) {
		return nil, opError(x, "compares a %s with a %s field", l.Type, r.Type)
	}
	switch typeClass(l.Type) {
	case TypeString:
		if f := stringPairOp(x.Op); f != nil {
			lg, rg := l.Str, r.Str
			return func(c C) bool {
				a, ok := lg(c)
				if !ok {
					return false
				}
				b, ok := rg(c)
				return ok && f(a, b)
			}, nil
		}
	case TypeUint:
		return orderedPair(l.Uint, r.Uint, x)
	case TypeInt:
		return orderedPair(l.Int, r.Int, x)
	case TypeBool:
		if x.Op == lang.OpEq || x.Op == lang.OpNe {
			return orderedPairEq(l.Bool, r.Bool, x.Op == lang.OpEq), nil
		}
	case TypeIPAddr:
		if x.Op == lang.OpEq || x.Op == lang.OpNe {
			return orderedPairEq(l.Addr, r.Addr, x.Op == lang.OpEq), nil
		}
	}
	return nil, &lang.Error{Pos: x.OpPos, Msg: fmt.Sprintf("operator %s cannot compare two %s fields", x.Op, l.Type)}
}

func stringPairOp(op lang.Operator) func(a, b string) bool {
	switch op {
	case lang.OpEq:
		return func(a, b string) bool { return a == b }
	case lang.OpNe:
		return func(a, b string) bool { return a != b }
	case lang.OpLt:
		return func(a, b string) bool { return a < b }
	case lang.OpLe:
		return func(a, b string) bool { return a <= b }
	case lang.OpGt:
		return func(a, b string) bool { return a > b }
	case lang.OpGe:
		return func(a, b string) bool { return a >= b }
	case lang.OpContains, lang.OpBContains:
		return strings.Contains
	case lang.OpIContains:
		return func(a, b string) bool { return containsFold(a, toLowerASCII(b)) }
	case lang.OpStartsWith, lang.OpBStartsWith:
		return strings.HasPrefix
	case lang.OpEndsWith:
		return strings.HasSuffix
	}
	return nil
}

func orderedPair[C any, N uint64 | int64](lg, rg func(C) (N, bool), x *lang.CompareExpr) (func(C) bool, error) {
	var f func(a, b N) bool
	switch x.Op {
	case lang.OpEq:
		f = func(a, b N) bool { return a == b }
	case lang.OpNe:
		f = func(a, b N) bool { return a != b }
	case lang.OpLt:
		f = func(a, b N) bool { return a < b }
	case lang.OpLe:
		f = func(a, b N) bool { return a <= b }
	case lang.OpGt:
		f = func(a, b N) bool { return a > b }
	case lang.OpGe:
		f = func(a, b N) bool { return a >= b }
	default:
		return nil, &lang.Error{Pos: x.OpPos, Msg: fmt.Sprintf("operator %s cannot compare two numeric fields", x.Op)}
	}
	return func(c C) bool {
		a, ok := lg(c)
		if !ok {
			return false
		}
		b, ok := rg(c)
		return ok && f(a, b)
	}, nil
}

func orderedPairEq[C any, T comparable](lg, rg func(C) (T, bool), eq bool) func(C) bool {
	return func(c C) bool {
		a, ok := lg(c)
		if !ok {
			return false
		}
		b, ok := rg(c)
		return ok && (a == b) == eq
	}
}
