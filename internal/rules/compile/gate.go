package compile

import (
	"sort"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// Name gates. Most rules on program starts begin with a test of the
// program's name (proc.name in (shells), proc.name = crontab); an exec of
// any other program cannot match them, yet each would still be called to
// find that out. The program index therefore also keys, per event type,
// the rules that need one of a few names by those names: Match reads the
// name once and calls only the rules that can match it, in load order.
// A gated rule's condition still tests the name itself, so the gate only
// saves calls and never changes an answer.

// DefaultGateField is the field rules are gated on.
const DefaultGateField = "proc.name"

// minGated is the number of gated rules a bucket needs before it gets a
// gate: below it the lookup costs more than the calls it saves.
const minGated = 4

// gateNames returns the values the gate field must equal for e to hold,
// from a top-level conjunct "field = value" or "field in (values)"; nil
// when there is no such conjunct.
func gateNames(e lang.Expr, field string) []string {
	terms := []lang.Expr{e}
	if a, ok := e.(*lang.AndExpr); ok {
		terms = flatten(a.Terms, true)
	}
	var names []string
	found := false
	for _, t := range terms {
		x, ok := t.(*lang.CompareExpr)
		if !ok {
			continue
		}
		f, ok := x.Left.(*lang.FieldRef)
		if !ok || f.Name != field || f.Arg != nil {
			continue
		}
		var vals []string
		switch v := x.Right.(type) {
		case *lang.Literal:
			if x.Op != lang.OpEq {
				continue
			}
			vals = []string{v.Text}
		case *lang.ListLit:
			if x.Op != lang.OpIn {
				continue
			}
			vals = texts(v.Items)
		default:
			continue
		}
		if !found {
			names, found = vals, true
			continue
		}
		names = intersectNames(names, vals) // both must hold
	}
	if !found {
		return nil
	}
	if names == nil {
		names = []string{} // no name can satisfy both: gated on nothing
	}
	return names
}

func intersectNames(a, b []string) []string {
	in := map[string]bool{}
	for _, s := range b {
		in[s] = true
	}
	var out []string
	for _, s := range a {
		if in[s] {
			out = append(out, s)
		}
	}
	return out
}

// gateIndex is one bucket's gate: for each gated name, the positions of
// the rules to call (ungated ones and those gated on that name, in load
// order), and for every other name the ungated ones alone.
type gateIndex struct {
	byName map[string][]int32
	plain  []int32
}

// buildGate returns the gate for a bucket whose rules have the given
// gates (nil: ungated), or nil when too few rules are gated.
func buildGate(gates [][]string) *gateIndex {
	gated := 0
	for _, g := range gates {
		if g != nil {
			gated++
		}
	}
	if gated < minGated {
		return nil
	}
	gi := &gateIndex{byName: map[string][]int32{}}
	for i, g := range gates {
		if g == nil {
			gi.plain = append(gi.plain, int32(i))
		}
	}
	for i, g := range gates {
		for _, name := range g {
			if _, ok := gi.byName[name]; !ok {
				gi.byName[name] = append([]int32(nil), gi.plain...)
			}
			if l := gi.byName[name]; len(l) == 0 || l[len(l)-1] != int32(i) {
				gi.byName[name] = append(l, int32(i))
			}
		}
	}
	for name, l := range gi.byName {
		sort.Slice(l, func(a, b int) bool { return l[a] < l[b] })
		gi.byName[name] = l
	}
	return gi
}
