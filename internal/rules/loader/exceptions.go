package loader

import (
	"fmt"

	"github.com/vigilsec/vigil/internal/rules/lang"
	"go.yaml.in/yaml/v3"
)

var exceptionKeys = set("name", "fields", "comps", "values")

// exceptions reads a rule's exceptions key. Shapes that depend on fields
// are checked by completeException once the fields are known, since an
// appended exception may carry only values.
func (r *reader) exceptions(n *yaml.Node, what string, appending bool) ([]*Exception, bool) {
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		r.errorf(n, "%s: exceptions must be a sequence, found %s", what, kindName(n))
		return nil, false
	}
	var out []*Exception
	seen := map[string]bool{}
	for _, item := range n.Content {
		item = deref(item)
		if item.Kind != yaml.MappingNode {
			r.errorf(item, "%s: each exception must be a mapping, found %s", what, kindName(item))
			return nil, false
		}
		m, ok := r.mapping(item)
		if !ok {
			return nil, false
		}
		if !m.has("name") {
			r.errorf(item, "%s: exception has no name", what)
			return nil, false
		}
		ex, ok := r.exception(m, what)
		if !ok {
			return nil, false
		}
		if seen[ex.Name] {
			r.errorf(item, "%s: exception %q is defined twice", what, ex.Name)
			return nil, false
		}
		seen[ex.Name] = true
		out = append(out, ex)
	}
	return out, true
}

func (r *reader) exception(m *mapping, rule string) (*Exception, bool) {
	name, ok := r.name(m, "name")
	if !ok {
		return nil, false
	}
	what := fmt.Sprintf("%s: exception %q", rule, name)
	r.checkKeys(m, exceptionKeys, what)
	ex := &Exception{Name: name, Pos: r.f.nodePos(m.node)}
	if e, ok := m.get("fields"); ok {
		switch e.val.Kind {
		case yaml.ScalarNode:
			ex.Fields = []Named{{Text: e.val.Value, Pos: r.f.nodePos(e.val)}}
		case yaml.SequenceNode:
			items, ok := r.scalars(e.val, what+": fields")
			if !ok {
				return nil, false
			}
			ex.FieldsList = true
			for _, it := range items {
				ex.Fields = append(ex.Fields, Named{Text: it.Value, Pos: it.Pos})
			}
		default:
			r.errorf(e.val, "%s: fields must be a field name or a sequence of them", what)
			return nil, false
		}
	}
	if e, ok := m.get("comps"); ok {
		switch e.val.Kind {
		case yaml.ScalarNode:
			ex.Comps = []Named{{Text: e.val.Value, Pos: r.f.nodePos(e.val)}}
		case yaml.SequenceNode:
			items, ok := r.scalars(e.val, what+": comps")
			if !ok {
				return nil, false
			}
			for _, it := range items {
				ex.Comps = append(ex.Comps, Named{Text: it.Value, Pos: it.Pos})
			}
		default:
			r.errorf(e.val, "%s: comps must be an operator or a sequence of them", what)
			return nil, false
		}
		for _, c := range ex.Comps {
			if op, ok := lang.LookupOperator(c.Text); !ok || op.IsUnary() {
				r.l.diags.Errorf(c.Pos, "%s: %q is not a supported comparison operator", what, c.Text)
				return nil, false
			}
		}
	}
	if e, ok := m.get("values"); ok {
		vals, ok := r.exceptionValues(e.val, what)
		if !ok {
			return nil, false
		}
		ex.Values = vals
	}
	return ex, true
}

func (r *reader) exceptionValues(n *yaml.Node, what string) ([]ExceptionTuple, bool) {
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		r.errorf(n, "%s: values must be a sequence, found %s", what, kindName(n))
		return nil, false
	}
	var out []ExceptionTuple
	for _, v := range n.Content {
		v = deref(v)
		t := ExceptionTuple{Pos: r.f.nodePos(v)}
		switch v.Kind {
		case yaml.ScalarNode:
			t.Scalar = true
			t.Items = []ExceptionValue{{Pos: t.Pos, Text: v.Value}}
		case yaml.SequenceNode:
			for _, el := range v.Content {
				el = deref(el)
				ev := ExceptionValue{Pos: r.f.nodePos(el), Text: el.Value}
				switch el.Kind {
				case yaml.ScalarNode:
				case yaml.SequenceNode:
					items, ok := r.scalars(el, what+": value list")
					if !ok {
						return nil, false
					}
					ev.IsList, ev.List, ev.Text = true, items, ""
				default:
					r.errorf(el, "%s: a value must be a string or a list of strings, found %s", what, kindName(el))
					return nil, false
				}
				t.Items = append(t.Items, ev)
			}
		default:
			r.errorf(v, "%s: each value must be a string or a sequence, found %s", what, kindName(v))
			return nil, false
		}
		out = append(out, t)
	}
	return out, true
}

// completeException fills in default comparisons and checks that values
// fit the fields, for an exception that is being defined.
func (r *reader) completeException(ex *Exception, rule string) bool {
	what := fmt.Sprintf("%s: exception %q", rule, ex.Name)
	if len(ex.Fields) == 0 {
		r.l.diags.Errorf(ex.Pos, "%s must have fields", what)
		return false
	}
	if len(ex.Comps) == 0 {
		def := "="
		if !ex.FieldsList {
			def = "in"
		}
		for _, f := range ex.Fields {
			ex.Comps = append(ex.Comps, Named{Text: def, Pos: f.Pos})
		}
	}
	if len(ex.Comps) != len(ex.Fields) {
		r.l.diags.Errorf(ex.Pos, "%s has %d fields but %d comps", what, len(ex.Fields), len(ex.Comps))
		return false
	}
	return r.checkValues(ex, ex.Values, what)
}

// checkValues checks value tuples against the exception's fields.
func (r *reader) checkValues(ex *Exception, vals []ExceptionTuple, what string) bool {
	for _, t := range vals {
		if !ex.FieldsList {
			if !t.Scalar {
				r.l.diags.Errorf(t.Pos, "%s has a single field, so each value must be a string", what)
				return false
			}
			continue
		}
		if t.Scalar || len(t.Items) != len(ex.Fields) {
			r.l.diags.Errorf(t.Pos, "%s: each value must be a sequence of %d items, one per field", what, len(ex.Fields))
			return false
		}
		for i, v := range t.Items {
			op, _ := lang.LookupOperator(ex.Comps[i].Text)
			if v.IsList && !op.IsList() {
				r.l.diags.Errorf(v.Pos, "%s: a list value needs a list operator (in, intersects, pmatch), not %s", what, ex.Comps[i].Text)
				return false
			}
		}
	}
	return true
}

// mergeExceptions appends exceptions the way Falco does: values are added
// to an existing exception of the same name, other exceptions are added.
func (r *reader) mergeExceptions(rule *Rule, add []*Exception, what string) bool {
	for _, ex := range add {
		var prev *Exception
		for _, p := range rule.Exceptions {
			if p.Name == ex.Name {
				prev = p
			}
		}
		if prev == nil {
			if len(ex.Values) == 0 {
				r.l.diags.Errorf(ex.Pos, "%s: new exception %q must have values", what, ex.Name)
				return false
			}
			if !r.completeException(ex, what) {
				return false
			}
			rule.Exceptions = append(rule.Exceptions, ex)
			continue
		}
		if len(ex.Fields) > 0 || len(ex.Comps) > 0 {
			r.l.diags.Errorf(ex.Pos, "%s: exception %q already exists; only values can be appended to it, not fields or comps", what, ex.Name)
			return false
		}
		if !r.checkValues(prev, ex.Values, fmt.Sprintf("%s: exception %q", what, ex.Name)) {
			return false
		}
		// Copy so that an earlier file's view of the exception is unchanged.
		merged := *prev
		merged.Values = append(append([]ExceptionTuple(nil), prev.Values...), ex.Values...)
		for i, p := range rule.Exceptions {
			if p == prev {
				rule.Exceptions[i] = &merged
			}
		}
	}
	return true
}
