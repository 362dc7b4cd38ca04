package enforce

import (
	"fmt"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// literal is one comparison of a condition in disjunctive normal form,
// possibly negated.
type literal struct {
	cmp *lang.CompareExpr
	neg bool
}

// conjunction is literals that must all hold.
type conjunction []literal

// maxConjunctions bounds the expansion of a condition into disjunctive
// normal form, which grows exponentially with nested or-under-and: past it
// the rule is reported as not compilable rather than expanded.
const maxConjunctions = 64

// toDNF rewrites a condition as an or of ands of comparisons, pushing
// negations down to the comparisons. Kernel policies are sets of
// alternatives, so this is the form they can be compiled from.
func toDNF(e lang.Expr, neg bool) ([]conjunction, error) {
	switch x := e.(type) {
	case *lang.CompareExpr:
		return []conjunction{{{cmp: x, neg: neg}}}, nil
	case *lang.NotExpr:
		return toDNF(x.X, !neg)
	case *lang.AndExpr:
		if neg {
			return orOf(x.Terms, neg)
		}
		return andOf(x.Terms, neg)
	case *lang.OrExpr:
		if neg {
			return andOf(x.Terms, neg)
		}
		return orOf(x.Terms, neg)
	case *lang.MacroRef:
		return nil, fmt.Errorf("%s: unexpanded macro %s", x.NamePos, x.Name)
	}
	return nil, fmt.Errorf("unsupported expression %T", e)
}

func orOf(terms []lang.Expr, neg bool) ([]conjunction, error) {
	var out []conjunction
	for _, t := range terms {
		d, err := toDNF(t, neg)
		if err != nil {
			return nil, err
		}
		out = append(out, d...)
		if len(out) > maxConjunctions {
			return nil, errTooComplex
		}
	}
	return out, nil
}

func andOf(terms []lang.Expr, neg bool) ([]conjunction, error) {
	out := []conjunction{{}}
	for _, t := range terms {
		d, err := toDNF(t, neg)
		if err != nil {
			return nil, err
		}
		if len(out)*len(d) > maxConjunctions {
			return nil, errTooComplex
		}
		next := make([]conjunction, 0, len(out)*len(d))
		for _, a := range out {
			for _, b := range d {
				c := make(conjunction, 0, len(a)+len(b))
				next = append(next, append(append(c, a...), b...))
			}
		}
		out = next
	}
	return out, nil
}

var errTooComplex = fmt.Errorf("the condition expands to more than %d alternatives", maxConjunctions)

// fieldName returns the field a comparison tests, "" when a transformer
// wraps it (the kernel cannot apply transformers).
func fieldName(c *lang.CompareExpr) string {
	if f, ok := c.Left.(*lang.FieldRef); ok && f.Arg == nil {
		return f.Name
	}
	return ""
}

// values returns the literal values a comparison tests against: one for
// scalar operators, every item for in. ok is false for a comparison with
// another field.
func values(c *lang.CompareExpr) ([]string, bool) {
	switch v := c.Right.(type) {
	case *lang.Literal:
		return []string{v.Text}, true
	case *lang.ListLit:
		out := make([]string, len(v.Items))
		for i, it := range v.Items {
			out[i] = it.Text
		}
		return out, true
	}
	return nil, false
}
