package enforce

import (
	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/rules/lang"
)

// fieldsOf lists the fields a rule's condition reads, with repeats.
func fieldsOf(r *detect.Rule) []string {
	refs := fieldRefsOf(r)
	out := make([]string, len(refs))
	for i, f := range refs {
		out[i] = f.Name
	}
	return out
}

// fieldRefsOf lists the field references of a rule's condition, in order,
// with their positions.
func fieldRefsOf(r *detect.Rule) []*lang.FieldRef {
	var out []*lang.FieldRef
	var walk func(e lang.Expr)
	walk = func(e lang.Expr) {
		switch x := e.(type) {
		case *lang.AndExpr:
			for _, t := range x.Terms {
				walk(t)
			}
		case *lang.OrExpr:
			for _, t := range x.Terms {
				walk(t)
			}
		case *lang.NotExpr:
			walk(x.X)
		case *lang.CompareExpr:
			if f := lang.BaseField(x.Left); f != nil {
				out = append(out, f)
			}
			if fv, ok := x.Right.(*lang.FieldValue); ok {
				if f := lang.BaseField(fv.X); f != nil {
					out = append(out, f)
				}
			}
		}
	}
	if r.Expr != nil {
		walk(r.Expr)
	}
	return out
}
