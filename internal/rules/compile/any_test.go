package compile

import (
	"testing"

	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/rules/loader"
)

// chain is a context whose proc.aname field stands for every ancestor
// name, as Falco's does without an index.
type chain struct {
	names  []string
	cursor int // 1-based while Any iterates; 0 renders the parent
}

type chainResolver struct{}

func (chainResolver) Lookup(name string, arg *lang.Arg) (Field[*chain], error) {
	switch name {
	case "evt.type":
		return StringField(func(*chain) (string, bool) { return "execve", true }), nil
	case "proc.aname":
		f := StringField(func(c *chain) (string, bool) {
			i := max(c.cursor, 1) - 1
			if i >= len(c.names) {
				return "", false
			}
			return c.names[i], true
		})
		f.Any = func(c *chain, test func(*chain) bool) bool {
			defer func() { c.cursor = 0 }()
			for i := range c.names {
				c.cursor = i + 1
				if test(c) {
					return true
				}
			}
			return false
		}
		return f, nil
	}
	return Field[*chain]{}, &UnknownFieldError{Name: name}
}

func TestAnyQuantifiesComparisons(t *testing.T) {
	c := &chain{names: []string{"bash", "sshd", "systemd"}}
	for cond, want := range map[string]bool{
		"proc.aname = sshd":                        true,
		"proc.aname = cron":                        false,
		"proc.aname in (cron, systemd)":            true,
		"proc.aname startswith sys":                true,
		"not proc.aname = sshd":                    false,
		"proc.aname != bash":                       true, // some ancestor is not bash, as in Falco
		"len(proc.aname) = 7":                      true,
		"toupper(proc.aname) = SSHD":               true,
		"proc.aname exists":                        true,
		"proc.aname = sshd and proc.aname = bash":  true, // each comparison quantifies on its own
		"proc.aname glob 's*d' and proc.aname = x": false,
	} {
		f, err := Condition(mustParse(t, cond), chainResolver{})
		if err != nil {
			t.Fatalf("%s: %v", cond, err)
		}
		if got := f(c); got != want {
			t.Errorf("%s = %v, want %v", cond, got, want)
		}
		if c.cursor != 0 {
			t.Errorf("%s left the cursor at %d", cond, c.cursor)
		}
	}
	if f, _ := Condition(mustParse(t, "proc.aname exists"), chainResolver{}); f(&chain{}) {
		t.Error("proc.aname exists holds without ancestors")
	}
}

func TestPlaceholders(t *testing.T) {
	src := lang.NewSource("o", "%proc.aname and %proc.aname again, %(toupper(proc.aname)) %missing.field", 1, 1)
	out, bad, err := OutputTemplate[*chain](src, chainResolver{})
	if err != nil || len(bad) != 1 {
		t.Fatal(err, bad)
	}
	ps := out.Placeholders()
	if len(ps) != 3 || ps[0].Name != "proc.aname" || ps[1].Name != "toupper(proc.aname)" || ps[2].Name != "missing.field" || ps[2].Resolved {
		t.Fatalf("Placeholders = %+v", ps)
	}
	if got := string(out.Render(&chain{names: []string{"bash"}}, nil)); got != "bash and bash again, BASH <NA>" {
		t.Errorf("Render = %q", got)
	}
}

func mustParse(t *testing.T, cond string) lang.Expr {
	t.Helper()
	l := loader.New(loader.Options{})
	l.LoadBytes("t.yaml", []byte(rule("r", cond)))
	rs := l.RuleSet()
	if len(rs.Rules) != 1 || rs.Rules[0].Expr == nil {
		t.Fatalf("%s: %s", cond, rs.Diagnostics)
	}
	return rs.Rules[0].Expr
}
