package compile

import (
	"testing"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// TestSpecializedConditionsAgreeWithFullEval: for every type a rule is
// indexed under, the condition Match runs (evt.type tests decided at
// compile time) gives the same answer as the whole condition on events of
// that type, whatever the other fields hold.
func TestSpecializedConditionsAgreeWithFullEval(t *testing.T) {
	conds := []string{
		"(evt.type = open and fd.name startswith /etc) or (evt.type in (unlink, rename) and proc.name = rm)",
		"evt.type in (open, unlink) and (evt.type = open or proc.name = rm) and not (evt.type = unlink and fd.name exists)",
		"evt.type in (open, execve, unlink) and not (evt.type != open and proc.name = bash) and (proc.pid > 10 or evt.type = execve)",
		"(evt.type = open and not evt.type = unlink) or (evt.type = execve and (evt.type in (execve) or proc.name = x))",
		"evt.type = open and proc.name = bash",
		"(evt.type = open or evt.type = unlink) and proc.name in (bash, rm)",
	}
	var yaml string
	for i, c := range conds {
		yaml += rule(string(rune('a'+i)), c)
	}
	p, diags := load(t, yaml, Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var events []*testEvent
	for _, proc := range []string{"bash", "rm", "x"} {
		for _, fd := range []string{"", "/etc/passwd", "/tmp/x"} {
			for _, pid := range []uint64{1, 42} {
				events = append(events, &testEvent{Proc: proc, FDName: fd, PID: pid})
			}
		}
	}
	checked := 0
	for typ := range p.EventTypeNames() {
		name := p.EventTypeNames()[typ]
		if name == "" {
			continue
		}
		for i, r := range p.buckets[typ] {
			for _, ev := range events {
				ev.Type = name
				if got, want := p.conds[typ][i](ev), r.Eval(ev); got != want {
					t.Errorf("rule %s (%s) on %s %+v: specialized %v, full %v", r.Name, r.Condition, name, *ev, got, want)
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("nothing was checked")
	}
}

// TestSpecializeDropsDeadBranches: the branch for another type is gone,
// and a condition without nested type tests is left to the index.
func TestSpecializeDropsDeadBranches(t *testing.T) {
	for _, c := range []struct{ cond, typ, want string }{
		{"(evt.type = open and fd.name = x) or (evt.type = unlink and proc.name = rm)", "open", "fd.name = x"},
		{"(evt.type = open and fd.name = x) or (evt.type = unlink and proc.name = rm)", "unlink", "proc.name = rm"},
		{"evt.type in (open, unlink) and not (evt.type = unlink and fd.name exists)", "open", "<true>"},
		{"evt.type in (open, unlink) and not (evt.type = unlink and fd.name exists)", "unlink", "not fd.name exists"},
		{"evt.type = open and proc.name = bash", "execve", "<false>"},
	} {
		e, err := lang.Parse(lang.NewSource("t", c.cond, 1, 1))
		if err != nil {
			t.Fatal(err)
		}
		r, v := specialize(e, "evt.type", c.typ)
		got := map[truth]string{isTrue: "<true>", isFalse: "<false>"}[v]
		if v == unknown {
			got = lang.Format(r)
		}
		if got != c.want {
			t.Errorf("%s for %s: got %s, want %s", c.cond, c.typ, got, c.want)
		}
	}
	for cond, want := range map[string]bool{
		"evt.type = open and proc.name = bash":                        false,
		"(evt.type = open or evt.type = unlink) and proc.name = bash": true,
		"proc.name = bash or evt.type = open":                         true,
	} {
		e, _ := lang.Parse(lang.NewSource("t", cond, 1, 1))
		if got := hasNestedTypeTest(e, "evt.type"); got != want {
			t.Errorf("hasNestedTypeTest(%s) = %v", cond, got)
		}
	}
}
