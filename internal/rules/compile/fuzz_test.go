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
		for i := range p.EventTypeNames() {
			p.Match(ev, EventType(i), nil)
			p.Match(&testEvent{}, EventType(i), nil)
		}
		for _, r := range p.Rules() {
			r.Eval(ev)
			r.Output.Render(ev, nil)
		}
	})
}
