package compile

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/rules/loader"
)

// syntheticRules returns n rules in the style of Falco's: an evt.type
// restriction, a few string tests, a negation. The first `same` rules are
// for execve, the others are spread over 40 other event types.
func syntheticRules(n, same int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		typ := "execve"
		if i >= same {
			typ = fmt.Sprintf("other%d", i%40)
		}
		var cond string
		switch i % 4 {
		case 0:
			cond = fmt.Sprintf("evt.type = %s and proc.name in (sh, zsh, dash, tool%d) and not proc.pname in (cron, atd)", typ, i)
		case 1:
			cond = fmt.Sprintf("evt.type in (%s, execveat) and fd.name startswith /var/%d and proc.pid > 100", typ, i)
			if typ != "execve" {
				cond = fmt.Sprintf("evt.type = %s and fd.name startswith /var/%d and proc.pid > 100", typ, i)
			}
		case 2:
			cond = fmt.Sprintf("evt.type = %s and proc.cmdline icontains wget%d and proc.tty = true", typ, i)
		default:
			cond = fmt.Sprintf("evt.type = %s and fd.name pmatch (/var/lib/%d, /opt) and not proc.args intersects (-x, --y)", typ, i)
		}
		fmt.Fprintf(&b, "- rule: r%d\n  desc: d\n  condition: %s\n  output: \"r%d %%proc.name\"\n  priority: notice\n", i, cond, i)
	}
	return b.String()
}

func benchProgram(b *testing.B, n, same int) *Program[*testEvent] {
	l := loader.New(loader.Options{})
	l.LoadBytes("bench.yaml", []byte(syntheticRules(n, same)))
	rs := l.RuleSet()
	p, diags := Compile[*testEvent](rs, testResolver{}, Options{})
	if diags.HasErrors() || rs.Diagnostics.HasErrors() || len(p.Rules()) != n {
		b.Fatalf("%d rules compiled:\n%s%s", len(p.Rules()), rs.Diagnostics, diags)
	}
	return p
}

func runMatch(b *testing.B, p *Program[*testEvent]) {
	ev := shell()
	typ := p.EventType(ev.Type)
	dst := make([]*Rule[*testEvent], 0, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		dst = p.Match(ev, typ, dst[:0])
	}
	b.ReportMetric(float64(len(p.RulesFor(typ))), "rules/event")
}

// BenchmarkMatch adds rules for other event types to a fixed ten for the
// event's type: thanks to the type index the cost should stay flat.
func BenchmarkMatch(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			runMatch(b, benchProgram(b, n, 10))
		})
	}
}

// BenchmarkMatchSameType puts every rule on the event's type, the worst
// case, for comparison.
func BenchmarkMatchSameType(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			runMatch(b, benchProgram(b, n, n))
		})
	}
}

func BenchmarkCompile1000(b *testing.B) {
	l := loader.New(loader.Options{})
	l.LoadBytes("bench.yaml", []byte(syntheticRules(1000, 10)))
	rs := l.RuleSet()
	b.ReportAllocs()
	for b.Loop() {
		Compile[*testEvent](rs, testResolver{}, Options{})
	}
}
