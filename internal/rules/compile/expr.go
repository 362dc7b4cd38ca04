package compile

import (
	"fmt"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// compiler compiles conditions against one resolver.
type compiler[C any] struct {
	resolver FieldResolver[C]
}

// Condition compiles an expanded condition (no macros left) into a
// closure. Errors are *lang.Error or *FieldError and carry positions; a
// field the resolver does not know matches ErrUnknownField.
func Condition[C any](e lang.Expr, r FieldResolver[C]) (func(C) bool, error) {
	c := &compiler[C]{resolver: r}
	return c.expr(e)
}

func (c *compiler[C]) expr(e lang.Expr) (func(C) bool, error) {
	switch x := e.(type) {
	case *lang.AndExpr:
		fs, err := c.terms(flatten(x.Terms, true))
		if err != nil {
			return nil, err
		}
		return and(fs), nil
	case *lang.OrExpr:
		fs, err := c.terms(flatten(x.Terms, false))
		if err != nil {
			return nil, err
		}
		return or(fs), nil
	case *lang.NotExpr:
		f, err := c.expr(x.X)
		if err != nil {
			return nil, err
		}
		return func(ctx C) bool { return !f(ctx) }, nil
	case *lang.CompareExpr:
		return c.compare(x)
	case *lang.MacroRef:
		return nil, &lang.Error{Pos: x.NamePos, Msg: fmt.Sprintf("macro %q was not expanded", x.Name)}
	}
	return nil, fmt.Errorf("unexpected expression %T", e)
}

func (c *compiler[C]) terms(es []lang.Expr) ([]func(C) bool, error) {
	fs := make([]func(C) bool, len(es))
	for i, e := range es {
		f, err := c.expr(e)
		if err != nil {
			return nil, err
		}
		fs[i] = f
	}
	return fs, nil
}

// flatten lifts nested terms of the same kind (macros expand into nested
// ands and ors) so that evaluation is one loop, not a chain of calls.
func flatten(terms []lang.Expr, isAnd bool) []lang.Expr {
	var out []lang.Expr
	for _, t := range terms {
		switch x := t.(type) {
		case *lang.AndExpr:
			if isAnd {
				out = append(out, flatten(x.Terms, true)...)
				continue
			}
		case *lang.OrExpr:
			if !isAnd {
				out = append(out, flatten(x.Terms, false)...)
				continue
			}
		}
		out = append(out, t)
	}
	return out
}

func and[C any](fs []func(C) bool) func(C) bool {
	switch len(fs) {
	case 0:
		return always[C]
	case 1:
		return fs[0]
	case 2:
		a, b := fs[0], fs[1]
		return func(c C) bool { return a(c) && b(c) }
	}
	return func(c C) bool {
		for _, f := range fs {
			if !f(c) {
				return false
			}
		}
		return true
	}
}

func or[C any](fs []func(C) bool) func(C) bool {
	switch len(fs) {
	case 0:
		return never[C]
	case 1:
		return fs[0]
	case 2:
		a, b := fs[0], fs[1]
		return func(c C) bool { return a(c) || b(c) }
	}
	return func(c C) bool {
		for _, f := range fs {
			if f(c) {
				return true
			}
		}
		return false
	}
}
