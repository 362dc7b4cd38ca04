package compile

import (
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// TestNameGate: with enough rules gated on proc.name, Match calls only
// the rules an event's name can satisfy, and still returns exactly the
// rules whose whole condition holds, in load order.
func TestNameGate(t *testing.T) {
	yaml := indexRules +
		rule("shells", "spawned and proc.name in (bash, sh)") +
		rule("curl", "spawned and proc.name = curl and proc.pid > 1") +
		rule("ungated", "spawned and proc.pid > 1") +
		rule("both", "spawned and proc.name in (bash, curl) and proc.name in (curl, wget)") +
		rule("contradiction", "spawned and proc.name = bash and proc.name = sh") +
		rule("negated", "spawned and not proc.name in (bash)") +
		rule("tools", "spawned and proc.name in (wget, curl, bash)")
	p, diags := load(t, yaml, Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	typ := p.EventType("execve")
	g := p.gates[typ]
	if g == nil {
		t.Fatal("no gate for execve")
	}
	if got := names(pick(p, typ, g.plain)); got != "ungated,negated" {
		t.Errorf("ungated rules %s", got)
	}
	for name, want := range map[string]string{
		"bash": "shells,ungated,negated,tools", // contradiction can never match
		"curl": "curl,ungated,both,negated,tools",
		"wget": "ungated,negated,tools", // both needs curl
	} {
		if got := names(pick(p, typ, g.byName[name])); got != want {
			t.Errorf("rules called for %s: %s, want %s", name, got, want)
		}
	}
	for _, name := range []string{"bash", "sh", "curl", "wget", "ls", ""} {
		ev := shell()
		ev.Proc = name
		var want []string
		for _, r := range p.RulesFor(typ) {
			if r.Eval(ev) {
				want = append(want, r.Name)
			}
		}
		if got := names(p.Match(ev, typ, nil)); got != strings.Join(want, ",") {
			t.Errorf("%q: Match %s, Eval %s", name, got, strings.Join(want, ","))
		}
	}
}

func pick(p *Program[*testEvent], t EventType, idx []int32) []*Rule[*testEvent] {
	var out []*Rule[*testEvent]
	for _, i := range idx {
		out = append(out, p.buckets[t][i])
	}
	return out
}

func TestGateNames(t *testing.T) {
	for cond, want := range map[string]string{
		"evt.type = execve and proc.name in (a, b)": "a,b",
		"proc.name = a": "a",
		"(proc.name = a or proc.name = b) and proc.pid > 1": "<nil>",
		"not proc.name = a":                                      "<nil>",
		"proc.name in (a, b) and proc.name in (b, c)":            "b",
		"proc.name = a and proc.name = b":                        "",
		"tolower(proc.name) = a":                                 "<nil>",
		"proc.name startswith a":                                 "<nil>",
		"proc.aname = a":                                         "<nil>",
		"evt.type = execve and (proc.pid > 1 and proc.name = a)": "a",
	} {
		e, err := lang.Parse(lang.NewSource("t", cond, 1, 1))
		if err != nil {
			t.Fatal(err)
		}
		names := gateNames(e, "proc.name")
		got := strings.Join(names, ",")
		if names == nil {
			got = "<nil>"
		}
		if got != want {
			t.Errorf("gateNames(%s) = %s, want %s", cond, got, want)
		}
	}
}
