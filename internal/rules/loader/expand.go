package loader

import (
	"errors"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// expander resolves names across everything loaded: macros may be used
// before they are defined (even by a later file), as in Falco, so this runs
// only once all files are in.
type expander struct {
	l     *Loader
	diags *lang.Diagnostics

	parsed    map[string]lang.Expr // macro conditions as written
	expanded  map[string]lang.Expr // macro conditions fully expanded
	bad       map[string]bool      // macros that failed to parse or expand
	expanding map[string]bool      // macros being expanded, to catch cycles

	lists     map[string][]ListItem // lists with nested list names expanded
	listState map[string]uint8      // 1 while resolving, 2 when done

	inRule bool // expanding a rule rather than a macro
}

func newExpander(l *Loader, diags *lang.Diagnostics) *expander {
	return &expander{
		l: l, diags: diags,
		parsed: map[string]lang.Expr{}, expanded: map[string]lang.Expr{},
		bad: map[string]bool{}, expanding: map[string]bool{},
		lists: map[string][]ListItem{}, listState: map[string]uint8{},
	}
}

// report adds a positioned error with the item it concerns as a prefix.
func (x *expander) report(what string, err error) {
	var e *lang.Error
	if errors.As(err, &e) {
		x.diags.Errorf(e.Pos, "%s: %s", what, e.Msg)
		return
	}
	x.diags.Errorf(lang.Pos{}, "%s: %v", what, err)
}

func (x *expander) run() {
	for _, m := range x.l.macros {
		m.Used = false
		e, err := lang.Parse(m.Condition)
		if err != nil {
			x.report(describe("macro", m.Name), err)
			x.bad[m.Name] = true
			continue
		}
		x.parsed[m.Name] = e
	}
	for _, li := range x.l.lists {
		li.Used = false
	}
	for _, li := range x.l.lists {
		x.resolveList(li.Name)
	}
	// Expanding every macro once reports problems inside macros at the
	// macro, once, rather than in every rule that uses it.
	for _, m := range x.l.macros {
		if !x.bad[m.Name] {
			x.expandMacro(m.Name, m.Pos, describe("macro", m.Name))
		}
	}
	for _, r := range x.l.rules {
		r.Expr = x.rule(r)
	}
	for _, m := range x.l.macros {
		if !m.Used {
			x.diags.Warnf(m.Pos, "macro %q is not used by any rule or macro", m.Name)
		}
	}
	for _, li := range x.l.lists {
		if !li.Used {
			x.diags.Warnf(li.Pos, "list %q is not used by any rule, macro or list", li.Name)
		}
	}
}

// rule parses a rule's condition, adds its exceptions and expands it.
func (x *expander) rule(r *Rule) lang.Expr {
	what := describe("rule", r.Name)
	x.inRule = true
	defer func() { x.inRule = false }()
	cond, err := lang.Parse(r.Condition)
	if err != nil {
		x.report(what, err)
		return nil
	}
	exc, ok := x.exceptions(r, what)
	if !ok {
		return nil
	}
	if len(exc) > 0 {
		cond = &lang.AndExpr{Terms: append([]lang.Expr{cond}, exc...)}
	}
	e, ok := x.expand(cond, what)
	if !ok {
		return nil
	}
	return e
}

// expandMacro returns a macro's fully expanded condition, or false if it
// is broken; ref is where it was referred to, for the cycle message.
func (x *expander) expandMacro(name string, ref lang.Pos, what string) (lang.Expr, bool) {
	if e, ok := x.expanded[name]; ok {
		return e, true
	}
	if x.bad[name] {
		return nil, false
	}
	if x.expanding[name] {
		x.diags.Errorf(ref, "%s: macro %q refers to itself", what, name)
		x.bad[name] = true
		return nil, false
	}
	x.expanding[name] = true
	e, ok := x.expand(x.parsed[name], describe("macro", name))
	delete(x.expanding, name)
	if !ok {
		x.bad[name] = true
		return nil, false
	}
	x.expanded[name] = e
	return e, true
}

// expand substitutes macros and list names. It builds new nodes where
// anything changed and shares the rest, so expansions must not be mutated.
func (x *expander) expand(e lang.Expr, what string) (lang.Expr, bool) {
	switch n := e.(type) {
	case *lang.AndExpr:
		terms, ok := x.expandTerms(n.Terms, what)
		return &lang.AndExpr{Terms: terms}, ok
	case *lang.OrExpr:
		terms, ok := x.expandTerms(n.Terms, what)
		return &lang.OrExpr{Terms: terms}, ok
	case *lang.NotExpr:
		inner, ok := x.expand(n.X, what)
		return &lang.NotExpr{NotPos: n.NotPos, X: inner}, ok
	case *lang.MacroRef:
		return x.macroRef(n, what)
	case *lang.CompareExpr:
		if list, ok := n.Right.(*lang.ListLit); ok {
			c := *n
			expanded, ok := x.expandList(list, what)
			c.Right = expanded
			return &c, ok
		}
		return n, true
	}
	return e, true
}

func (x *expander) expandTerms(terms []lang.Expr, what string) ([]lang.Expr, bool) {
	out := make([]lang.Expr, len(terms))
	good := true
	for i, t := range terms {
		var ok bool
		out[i], ok = x.expand(t, what)
		good = good && ok
	}
	return out, good
}

func (x *expander) macroRef(n *lang.MacroRef, what string) (lang.Expr, bool) {
	m := x.l.macBy[n.Name]
	if m == nil {
		x.diags.Errorf(n.NamePos, "%s: undefined macro %q", what, n.Name)
		return nil, false
	}
	m.Used = true
	if x.bad[n.Name] {
		// The macro's own error was reported where the macro is defined;
		// say here what it costs.
		if x.inRule {
			x.diags.Errorf(n.NamePos, "%s is not loaded: macro %q has errors", what, n.Name)
		}
		return nil, false
	}
	return x.expandMacro(n.Name, n.NamePos, what)
}

// expandList replaces bare items that name lists by those lists' items.
// A list written as a bare name must name a list.
func (x *expander) expandList(l *lang.ListLit, what string) (*lang.ListLit, bool) {
	out := &lang.ListLit{LParen: l.LParen}
	for _, it := range l.Items {
		if it.Quoted || x.l.listBy[it.Text] == nil {
			if l.Ref {
				x.diags.Errorf(it.ValuePos, "%s: undefined list %q", what, it.Text)
				return nil, false
			}
			out.Items = append(out.Items, it)
			continue
		}
		x.l.listBy[it.Text].Used = true
		for _, v := range x.resolveList(it.Text) {
			out.Items = append(out.Items, itemLiteral(v.Value, v.Pos))
		}
	}
	return out, true
}

// resolveList returns a list's items with the names of other lists among
// them replaced by their items.
func (x *expander) resolveList(name string) []ListItem {
	switch x.listState[name] {
	case 1:
		return nil // a cycle, reported by the caller that closed it
	case 2:
		return x.lists[name]
	}
	x.listState[name] = 1
	var out []ListItem
	for _, it := range x.l.listBy[name].Items {
		ref := x.l.listBy[it.Value]
		if ref == nil {
			out = append(out, it)
			continue
		}
		ref.Used = true
		if x.listState[it.Value] == 1 {
			x.diags.Errorf(it.Pos, "list %q includes itself through list %q", name, it.Value)
			continue
		}
		out = append(out, x.resolveList(it.Value)...)
	}
	x.lists[name] = out
	x.listState[name] = 2
	return out
}

// itemLiteral makes a condition value of a list or exception item. Falco
// pastes items into the condition text, so an item that is itself a quoted
// string stands for its unquoted value.
func itemLiteral(text string, pos lang.Pos) *lang.Literal {
	if v, ok := lang.Unquote(text); ok {
		return &lang.Literal{ValuePos: pos, Text: v, Quoted: true}
	}
	return &lang.Literal{ValuePos: pos, Text: text}
}
