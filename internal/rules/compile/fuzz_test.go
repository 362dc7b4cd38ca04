package compile

import (
	"os"
	"testing"

	"github.com/vigilsec/vigil/internal/rules/loader"
)

// FuzzCompile checks that whatever loads also compiles and evaluates
// without panicking: odd globs, regexes, hex, addresses and numbers.
func FuzzCompile(f *testing.F) {
	if data, err := os.ReadFile("testdata/program.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(rule("g", "evt.type = open and fd.name glob '[a-'") + rule("h", "fd.ip in (::1/200, 1.2.3.4)")))
	f.Fuzz(func(t *testing.T, data []byte) {
		l := loader.New(loader.Options{})
		l.LoadBytes("fuzz.yaml", data)
		p, _ := Compile[*testEvent](l.RuleSet(), testResolver{}, Options{})
		ev := shell()
		for i, name := range p.EventTypeNames() {
			p.Match(ev, EventType(i), nil)
			p.Match(&testEvent{}, EventType(i), nil)
			if name == "" {
				continue
			}
			// For an event of the bucket's own type, the specialized
			// conditions Match runs agree with the whole conditions.
			typed := shell()
			typed.Type = name
			matched := map[*Rule[*testEvent]]bool{}
			for _, r := range p.Match(typed, EventType(i), nil) {
				matched[r] = true
			}
			for _, r := range p.RulesFor(EventType(i)) {
				if matched[r] != r.Eval(typed) {
					t.Fatalf("rule %q on %s: Match says %v, Eval %v", r.Name, name, matched[r], !matched[r])
				}
			}
		}
		for _, r := range p.Rules() {
			r.Eval(ev)
			r.Output.Render(ev, nil)
		}
	})
}
