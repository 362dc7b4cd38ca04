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
// with their positions: those compared and those read through val(), under
// any transformers.
func fieldRefsOf(r *detect.Rule) []*lang.FieldRef {
	if r.Expr == nil {
		return nil
	}
	var out []*lang.FieldRef
	lang.Inspect(r.Expr, func(n lang.Node) bool {
		if f, ok := n.(*lang.FieldRef); ok {
			out = append(out, f)
		}
		return true
	})
	return out
}
