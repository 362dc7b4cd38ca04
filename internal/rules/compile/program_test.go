package compile

import (
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/rules/loader"
)

// load compiles YAML rules against the test resolver.
func load(t *testing.T, yaml string, opts Options) (*Program[*testEvent], lang.Diagnostics) {
	t.Helper()
	l := loader.New(loader.Options{})
	l.LoadBytes("rules.yaml", []byte(yaml))
	rs := l.RuleSet()
	if rs.Diagnostics.HasErrors() {
		t.Fatalf("load errors:\n%s", rs.Diagnostics)
	}
	p, diags := Compile[*testEvent](rs, testResolver{}, opts)
	return p, append(rs.Diagnostics, diags...)
}

func rule(name, cond string, extra ...string) string {
	return "- rule: " + name + "\n  desc: d\n  condition: " + cond + "\n  output: \"" + name + " %proc.name\"\n  priority: notice\n" + strings.Join(extra, "")
}

func names(rs []*Rule[*testEvent]) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return strings.Join(out, ",")
}

const indexRules = `
- macro: spawned
  condition: evt.type in (execve, execveat)
`

func TestTypeIndex(t *testing.T) {
	yaml := indexRules +
		rule("exec", "spawned and proc.name = bash") +
		rule("open", "evt.type = open and fd.name startswith /etc") +
		rule("exec-or-open", "(evt.type = execve and proc.pid > 1) or (evt.type = open and fd.name exists)") +
		rule("not-exec", "evt.type != execve and proc.name = bash") +
		rule("negated", "not evt.type in (open, execve) and proc.name = bash") +
		rule("any", "proc.name = bash", "  warn_evttypes: false\n") +
		rule("disabled", "evt.type = execve", "  enabled: false\n") +
		rule("never", "evt.type = open and evt.type = execve")
	p, diags := load(t, yaml, Options{})
	if !strings.Contains(diags.String(), `rule "never" can never match`) {
		t.Errorf("no never-match warning:\n%s", diags)
	}
	if strings.Contains(diags.String(), `rule "any" does not restrict`) {
		t.Errorf("warn_evttypes: false did not silence the warning:\n%s", diags)
	}
	for typ, want := range map[string]string{
		"execve":   "exec,exec-or-open,any",
		"execveat": "exec,not-exec,negated,any",
		"open":     "open,exec-or-open,not-exec,any",
		"connect":  "not-exec,negated,any", // a type no rule names
	} {
		got := names(p.RulesFor(p.EventType(typ)))
		if got != want {
			t.Errorf("rules for %s = %s, want %s", typ, got, want)
		}
	}
	if p.EventType("connect") != OtherTypes {
		t.Error("an unnamed type should map to OtherTypes")
	}

	ev := shell() // execve of bash
	got := p.Match(ev, p.EventType("execve"), nil)
	if names(got) != "exec,exec-or-open,any" {
		t.Errorf("Match = %s", names(got))
	}
	ev.Type = "connect"
	if got := names(p.Match(ev, p.EventType("connect"), nil)); got != "not-exec,negated,any" {
		t.Errorf("Match on connect = %s", got)
	}
	if n := p.Rule("exec").Matches(); n != 1 {
		t.Errorf("exec matched %d times, want 1", n)
	}
	if n := p.Rule("any").Matches(); n != 2 {
		t.Errorf("any matched %d times, want 2", n)
	}
	if !p.Rule("exec").Eval(shell()) || p.Rule("open").Eval(shell()) {
		t.Error("Eval disagrees with the conditions")
	}
	if ts := p.Rule("not-exec").Types; !ts.Neg || strings.Join(ts.Names(), ",") != "execve" {
		t.Errorf("not-exec types = %+v", ts.Names())
	}
}

func TestTypeIndexFullEval(t *testing.T) {
	// The index-side closure skips evt.type tests; Eval must still do them.
	p, _ := load(t, rule("open", "evt.type = open and proc.name = bash"), Options{})
	r := p.Rule("open")
	if r.Eval(shell()) {
		t.Error("Eval ignored evt.type")
	}
	if got := p.Match(shell(), p.EventType("execve"), nil); len(got) != 0 {
		t.Errorf("execve matched %s", names(got))
	}
}

func TestUnknownFields(t *testing.T) {
	yaml := rule("uses-unknown", "evt.type = open and k8s.ns.name = default") +
		rule("skippable", "evt.type = open and k8s.ns.name = default", "  skip-if-unknown-filter: true\n") +
		rule("fine", "evt.type = open and proc.name = bash") +
		rule("bad-output", "evt.type = open", "  output: \"x %container.image.repository\"\n")
	// Drop the generated output so that the extra one is the only one.
	yaml = strings.Replace(yaml, "  output: \"bad-output %proc.name\"\n", "", 1)
	p, diags := load(t, yaml, Options{})
	if got := names(p.Rules()); got != "fine,bad-output" {
		t.Errorf("loaded %s", got)
	}
	if diags.HasErrors() {
		t.Errorf("unknown fields should only warn by default:\n%s", diags)
	}
	want := `rules.yaml:3:34: warning: rule "uses-unknown" is skipped: unknown field "k8s.ns.name"`
	if !strings.Contains(diags.String(), want) {
		t.Errorf("missing %q in\n%s", want, diags)
	}
	out := p.Rule("bad-output").Output.Render(shell(), nil)
	if string(out) != "x <NA>" {
		t.Errorf("output = %q", out)
	}

	p, diags = load(t, yaml, Options{Strict: true})
	if got := names(p.Rules()); got != "fine" {
		t.Errorf("strict loaded %s", got)
	}
	s := diags.String()
	if !strings.Contains(s, `error: rule "uses-unknown" is not loaded: unknown field "k8s.ns.name"`) ||
		!strings.Contains(s, `warning: rule "skippable" is skipped`) ||
		!strings.Contains(s, `error: rule "bad-output" is not loaded: output: unknown field "container.image.repository"`) {
		t.Errorf("strict diagnostics:\n%s", s)
	}
}

func TestCompileDiagnosticsPositions(t *testing.T) {
	yaml := "- macro: big_pid\n  condition: proc.pid > lots\n" + rule("r", "evt.type = execve and big_pid")
	_, diags := load(t, yaml, Options{})
	want := `rules.yaml:2:25: error: rule "r" is not loaded: "lots" is not an unsigned number, as proc.pid needs`
	if !strings.Contains(diags.String(), want) {
		t.Errorf("want %q in\n%s", want, diags)
	}
}

func TestOtherSourcesAndBrokenRulesAreLeftOut(t *testing.T) {
	l := loader.New(loader.Options{})
	l.LoadBytes("r.yaml", []byte(rule("audit", "ka.verb = get", "  source: k8s_audit\n")+
		rule("broken", "evt.type = open and undefined_macro")+rule("ok", "evt.type = open")))
	p, _ := Compile[*testEvent](l.RuleSet(), testResolver{}, Options{})
	if got := names(p.Rules()); got != "ok" {
		t.Errorf("compiled %s", got)
	}
}

func TestOutputRender(t *testing.T) {
	src := lang.NewSource("o", "%proc.name pid=%proc.pid ret=%evt.rawres tty=%proc.tty ip=%fd.ip args=%proc.args parent=%proc.aname[0] missing=%proc.ppid %(tolower(proc.name)) 100%%", 1, 1)
	out, bad, err := OutputTemplate[*testEvent](src, testResolver{})
	if err != nil || len(bad) > 0 {
		t.Fatal(err, bad)
	}
	ev := shell()
	ev.PPID = 0
	got := string(out.Render(ev, nil))
	want := "bash pid=4242 ret=-13 tty=true ip=10.1.2.3 args=-c,curl parent=sshd missing=<NA> bash 100%"
	if got != want {
		t.Errorf("Render =\n %q\nwant\n %q", got, want)
	}
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { buf = out.Render(ev, buf[:0]) }); n > 1 {
		// tolower may allocate when it changes the string; bash is lower.
		t.Errorf("Render allocates %.0f times", n)
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	p, _ := load(t, rule("a", "evt.type = execve and proc.name in (bash, sh) and fd.name pmatch (/etc)")+
		rule("b", "evt.type = execve and proc.cmdline icontains CURL and not proc.pname = cron"), Options{})
	ev := shell()
	typ := p.EventType("execve")
	dst := make([]*Rule[*testEvent], 0, 8)
	if n := testing.AllocsPerRun(1000, func() { dst = p.Match(ev, typ, dst[:0]) }); n != 0 {
		t.Errorf("Match allocates %.1f times per event", n)
	}
	if len(dst) != 2 {
		t.Errorf("matched %d rules", len(dst))
	}
}

// TestFirstMatch: with FirstMatch, Match stops at the first matching rule
// in load order, except that rules with an action after it still match.
func TestFirstMatch(t *testing.T) {
	yaml := indexRules +
		rule("miss", "spawned and proc.name = zsh") +
		rule("first", "spawned and proc.name = bash") +
		rule("second", "spawned") +
		rule("kill", "spawned and proc.name = bash", "  action: kill\n") +
		rule("third", "proc.name = bash", "  warn_evttypes: false\n")
	all, _ := load(t, yaml, Options{})
	first, _ := load(t, yaml, Options{FirstMatch: true})
	if all.FirstMatch() || !first.FirstMatch() {
		t.Fatal("FirstMatch not recorded")
	}
	typ := all.EventType("execve")
	if got := names(all.Match(shell(), typ, nil)); got != "first,second,kill,third" {
		t.Errorf("all: %s", got)
	}
	if got := names(first.Match(shell(), first.EventType("execve"), nil)); got != "first,kill" {
		t.Errorf("first: %s", got)
	}
	if n := first.Rule("second").Matches(); n != 0 {
		t.Errorf("a rule after the first match was evaluated: %d matches", n)
	}
	ev := shell()
	ev.Proc = "sh"
	if got := names(first.Match(ev, first.EventType("execve"), nil)); got != "second" {
		t.Errorf("first, without the first rule matching: %s", got)
	}
	ev.Type = "connect"
	if got := names(first.Match(ev, first.EventType("connect"), nil)); got != "" {
		t.Errorf("first on another type: %s", got)
	}
}
