package compile

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/rules/internal/golden"
	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/rules/loader"
)

func TestProgramGolden(t *testing.T) {
	rs, err := loader.Load(loader.Options{}, "testdata/program.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, diags := Compile[*testEvent](rs, testResolver{}, Options{})
	var b strings.Builder
	for _, r := range p.Rules() {
		fmt.Fprintf(&b, "rule %q\n", r.Name)
		switch ts := r.Types; {
		case ts.All():
			b.WriteString("  types: all\n")
		case ts.Empty():
			b.WriteString("  types: none\n")
		case ts.Neg:
			fmt.Fprintf(&b, "  types: all but %s\n", strings.Join(ts.Names(), ", "))
		default:
			fmt.Fprintf(&b, "  types: %s\n", strings.Join(ts.Names(), ", "))
		}
		fmt.Fprintf(&b, "  condition: %s\n", r.Condition)
		var expr lang.Expr
		for _, lr := range rs.Rules {
			if lr.Name == r.Name {
				expr = lr.Expr
			}
		}
		if rest := withoutTypeTests(expr, DefaultEventTypeField); rest != nil {
			fmt.Fprintf(&b, "  after index: %s\n", lang.Format(rest))
		} else {
			b.WriteString("  after index: true\n")
		}
	}
	for i, name := range p.EventTypeNames() {
		if i == int(OtherTypes) {
			name = "(other)"
		}
		var rules []string
		for _, r := range p.RulesFor(EventType(i)) {
			rules = append(rules, r.Name)
		}
		fmt.Fprintf(&b, "bucket %s: %s\n", name, strings.Join(rules, ", "))
	}
	b.WriteString("diagnostics:\n")
	for _, d := range append(rs.Diagnostics, diags...) {
		fmt.Fprintf(&b, "  %s\n", d)
	}
	golden.Check(t, "testdata/program.golden", []byte(b.String()))
}
