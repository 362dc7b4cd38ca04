package ruletest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/proc"
)

// Result is the outcome of one fixture test.
type Result struct {
	Test     *Test
	Alerts   []*alert.Alert // what fired
	Failures []string       // empty when the test passed
}

// Passed reports whether every expectation held.
func (r *Result) Passed() bool { return len(r.Failures) == 0 }

// Run runs every test of f against p. Each test gets a process
// table of its own holding the event's process and ancestors, built the
// way the agent builds it (exec events applied in order), then its event
// is evaluated as the agent would.
func Run(p *detect.Program, f *File) []*Result {
	var out []*Result
	for _, t := range f.Tests {
		out = append(out, runTest(p, t))
	}
	return out
}

func runTest(p *detect.Program, t *Test) *Result {
	res := &Result{Test: t}
	fail := func(format string, args ...any) { res.Failures = append(res.Failures, fmt.Sprintf(format, args...)) }
	for _, name := range append(append([]string(nil), t.Fire...), t.NotFire...) {
		if r := p.Rule(name); r == nil || !r.Enabled {
			fail("no enabled rule named %q is loaded", name)
		}
	}
	for name := range t.Output {
		if !slices.Contains(t.Fire, name) {
			fail("output is given for %q, which is not in fire", name)
		}
	}
	table := proc.New()
	ev, users, cont, err := buildEvent(t, table)
	if err != nil {
		fail("%v", err)
		return res
	}
	defer ev.Release()
	table.Apply(ev) // as the pipeline does before the rules run
	env := &fields.Env{Table: table, Users: users, Hostname: "fixture"}
	if cont != nil {
		env.Containers = fixtureContainers{info: cont}
	}
	res.Alerts = detect.New(detect.Config{Program: p, Env: env, Shards: 1}).Evaluate(ev)

	fired := map[string]*alert.Alert{}
	for _, a := range res.Alerts {
		fired[a.Rule] = a
	}
	for _, name := range t.Fire {
		a, ok := fired[name]
		switch {
		case !ok:
			fail("%q did not fire (fired: %s)", name, firedNames(res.Alerts))
		case t.Output[name] != "" && a.Output != t.Output[name]:
			fail("%q rendered\n    %s\n  want\n    %s", name, a.Output, t.Output[name])
		}
	}
	for _, name := range t.NotFire {
		if _, ok := fired[name]; ok {
			fail("%q fired: %s", name, fired[name].Output)
		}
	}
	return res
}

func firedNames(as []*alert.Alert) string {
	if len(as) == 0 {
		return "none"
	}
	var names []string
	for _, a := range as {
		names = append(names, fmt.Sprintf("%q", a.Rule))
	}
	return strings.Join(names, ", ")
}
