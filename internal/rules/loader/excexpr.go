package loader

import (
	"strconv"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// exceptions builds one "not (...)" term per exception that has values,
// as Falco compiles them: the rule's condition becomes
// (cond) and not (tuple1 or tuple2 ...) and not (...), where a tuple is
// the AND of field comp value over the exception's fields.
func (x *expander) exceptions(r *Rule, what string) ([]lang.Expr, bool) {
	var terms []lang.Expr
	for _, ex := range r.Exceptions {
		if len(ex.Values) == 0 {
			continue
		}
		fields := make([]lang.Operand, len(ex.Fields))
		ops := make([]lang.Operator, len(ex.Comps))
		for i, f := range ex.Fields {
			o, err := lang.ParseOperand(lang.NewSource(f.Pos.File, f.Text, f.Pos.Line, f.Pos.Col))
			if err != nil {
				x.report(what+": exception "+strconv.Quote(ex.Name), err)
				return nil, false
			}
			fields[i] = o
			ops[i], _ = lang.LookupOperator(ex.Comps[i].Text)
		}
		var alts []lang.Expr
		if !ex.FieldsList {
			alts = singleFieldTests(fields[0], ops[0], ex)
		} else {
			for _, t := range ex.Values {
				alts = append(alts, tupleTest(fields, ops, ex, t))
			}
		}
		terms = append(terms, &lang.NotExpr{NotPos: ex.Pos, X: either(alts)})
	}
	return terms, true
}

// singleFieldTests compares one field with all the values: one list test
// for a list operator, else one test per value.
func singleFieldTests(f lang.Operand, op lang.Operator, ex *Exception) []lang.Expr {
	if op.IsList() {
		list := &lang.ListLit{LParen: ex.Values[0].Pos}
		for _, t := range ex.Values {
			list.Items = append(list.Items, literal(t.Items[0]))
		}
		return []lang.Expr{compare(f, op, ex.Comps[0].Pos, list)}
	}
	var alts []lang.Expr
	for _, t := range ex.Values {
		alts = append(alts, compare(f, op, ex.Comps[0].Pos, literal(t.Items[0])))
	}
	return alts
}

func tupleTest(fields []lang.Operand, ops []lang.Operator, ex *Exception, t ExceptionTuple) lang.Expr {
	var tests []lang.Expr
	for i, v := range t.Items {
		var right lang.Value
		switch {
		case v.IsList:
			list := &lang.ListLit{LParen: v.Pos}
			for _, it := range v.List {
				list.Items = append(list.Items, itemLiteral(it.Value, it.Pos))
			}
			right = list
		case ops[i].IsList():
			// A single value for a list operator is a one-item list, so
			// that it may name a list, as in Falco.
			right = &lang.ListLit{LParen: v.Pos, Items: []*lang.Literal{literal(v)}}
		default:
			right = literal(v)
		}
		tests = append(tests, compare(fields[i], ops[i], ex.Comps[i].Pos, right))
	}
	if len(tests) == 1 {
		return tests[0]
	}
	return &lang.AndExpr{Terms: tests}
}

func either(alts []lang.Expr) lang.Expr {
	if len(alts) == 1 {
		return alts[0]
	}
	return &lang.OrExpr{Terms: alts}
}

func compare(f lang.Operand, op lang.Operator, pos lang.Pos, v lang.Value) lang.Expr {
	return &lang.CompareExpr{Left: f, Op: op, OpPos: pos, Right: v}
}

// literal turns an exception value into a literal, unquoted unless quoted
// in the text itself, so that inside a list it may name a list.
func literal(v ExceptionValue) *lang.Literal {
	return itemLiteral(v.Text, v.Pos)
}
