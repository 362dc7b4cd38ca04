package loader

import (
	"testing"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

func FuzzLoad(f *testing.F) {
	f.Add([]byte("- macro: m\n  condition: proc.name = a\n- rule: r\n  desc: d\n  condition: evt.type = open and m\n  output: o\n  priority: notice\n"))
	f.Add([]byte("- list: l\n  items: [a, l2]\n- list: l2\n  items: [l]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l := New(Options{})
		l.LoadBytes("fuzz.yaml", data)
		l.LoadBytes("again.yaml", data) // amending itself exercises append and override paths
		rs := l.RuleSet()
		for _, d := range rs.Diagnostics {
			if d.Pos.File == "" || d.Message == "" {
				t.Fatalf("diagnostic without file or message: %+v", d)
			}
		}
		for _, r := range rs.Rules {
			if r.Expr == nil {
				continue
			}
			text := r.ConditionText()
			if _, err := lang.Parse(lang.NewSource("canon", text, 1, 1)); err != nil {
				t.Fatalf("expanded condition %q of rule %q does not parse: %v", text, r.Name, err)
			}
		}
	})
}
