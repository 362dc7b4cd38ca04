package rules

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	vigilevent "github.com/vigilsec/vigil/internal/event"
	vigilfields "github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/rules/compile"
	"github.com/vigilsec/vigil/internal/rules/internal/golden"
	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/rules/loader"
	defaultrules "github.com/vigilsec/vigil/rules"
)

// falcoFixtures holds rule files in Falco's format written for this test
// (see its README.md).
const falcoFixtures = "testdata/falco-format"

// falcoSet is one rule set: embedded default files, then paths, loaded in
// order into one loader, as vigil run loads them.
type falcoSet struct {
	name     string
	embedded []string
	paths    []string
	golden   string // the file pinning the loaded rules; "" for none
	// external marks a file from outside the repository (a developer's
	// copy of Falco's own rules): it may use fields Vigil lacks, so its
	// skipped rules are reported, not failed.
	external bool
}

func falcoSets(t *testing.T) []falcoSet {
	t.Helper()
	stable := defaultrules.Files()
	sets := []falcoSet{
		{name: "embedded/stable", embedded: stable},
		{name: "embedded/stable+experimental", embedded: append(append([]string{}, stable...), defaultrules.ExperimentalFiles()...)},
	}
	entries, err := os.ReadDir(falcoFixtures)
	if err != nil {
		t.Fatal(err)
	}
	fixtures := 0
	for _, e := range entries {
		name, path := e.Name(), filepath.Join(falcoFixtures, e.Name())
		switch {
		case name == "amends-defaults":
			sets = append(sets, falcoSet{name: name, embedded: stable, paths: []string{path}})
		case e.IsDir():
			sets = append(sets, falcoSet{name: name, paths: []string{path}, golden: path + ".golden"})
		case strings.HasSuffix(name, ".yaml"):
			base := strings.TrimSuffix(name, ".yaml")
			sets = append(sets, falcoSet{name: base, paths: []string{path}, golden: filepath.Join(falcoFixtures, base+".golden")})
		default:
			continue
		}
		fixtures++
	}
	// The folder is the test's substance: losing it must not pass quietly.
	if fixtures < 5 {
		t.Fatalf("%d rule sets in %s, want at least 5", fixtures, falcoFixtures)
	}
	if env := os.Getenv("VIGIL_FALCO_RULES"); env != "" {
		for _, p := range filepath.SplitList(env) {
			sets = append(sets, falcoSet{name: "external/" + filepath.Base(p), paths: []string{p}, external: true})
		}
	}
	return sets
}

// TestFalcoFormatRules compiles Vigil's embedded rules and every rule set
// in testdata/falco-format against the real field registry. No rule for
// the syscall source may be skipped or fail, no output may name a field
// that cannot render, and each set's expansion matches its golden file.
// VIGIL_FALCO_RULES (a path list) adds external files, such as Falco's
// own rules, which are held to "loads without errors" only.
func TestFalcoFormatRules(t *testing.T) {
	reg := vigilfields.New()
	uncollected := map[string]bool{}
	for _, f := range reg.Fields() {
		if f.Desc == vigilfields.NotCollected {
			uncollected[f.Name] = true
		}
	}
	for _, set := range falcoSets(t) {
		t.Run(set.name, func(t *testing.T) {
			l := loader.New(loader.Options{})
			for _, name := range set.embedded {
				data, err := fs.ReadFile(defaultrules.FS, name)
				if err != nil {
					t.Fatal(err)
				}
				l.LoadBytes("<embedded>/"+name, data)
			}
			for _, p := range set.paths {
				if err := l.LoadPath(p); err != nil {
					t.Fatal(err)
				}
			}
			loaded := l.RuleSet()
			prog, diags := compile.Compile(loaded, reg, compile.Options{Strict: !set.external})
			diags = append(append(lang.Diagnostics{}, loaded.Diagnostics...), diags...)
			if set.external {
				checkExternal(t, loaded, prog, diags)
				return
			}
			for _, d := range diags {
				// Warnings a set means to raise (a deprecated form) are
				// pinned in its golden file; Vigil's own rules raise none.
				if d.Severity == lang.SeverityError || set.golden == "" {
					t.Errorf("%s", d)
				}
			}
			checkAllCompiled(t, loaded, prog)
			checkOutputsRender(t, loaded, prog, uncollected)
			if set.golden != "" {
				golden.Check(t, set.golden, []byte(describeFalcoSet(loaded, prog, diags)))
			}
		})
	}
}

// checkAllCompiled fails for every rule of the syscall source that did not
// make it into the program, whatever the reason.
func checkAllCompiled(t *testing.T, loaded *loader.RuleSet, prog *compile.Program[*vigilfields.Context]) {
	t.Helper()
	forUs, others := 0, 0
	for _, r := range loaded.Rules {
		switch {
		case !r.ForThisEngine:
			others++
			if prog.Rule(r.Name) != nil {
				t.Errorf("rule %q for source %s was compiled for syscalls", r.Name, r.Source)
			}
		case r.Expr == nil:
			t.Errorf("rule %q at %s did not expand", r.Name, r.Pos)
		case prog.Rule(r.Name) == nil:
			t.Errorf("rule %q at %s is skipped", r.Name, r.Pos)
		default:
			forUs++
		}
	}
	if forUs == 0 {
		t.Error("no rule compiled")
	}
	t.Logf("%d rules compiled, %d for other sources set aside", forUs, others)
}

// checkOutputsRender fails for output fields that render <NA> whatever the
// event: unknown to the registry, or known but never collected. It then
// renders every output for an exec and an open, as alerts would.
func checkOutputsRender(t *testing.T, loaded *loader.RuleSet, prog *compile.Program[*vigilfields.Context], uncollected map[string]bool) {
	t.Helper()
	for _, r := range loaded.Rules {
		cr := prog.Rule(r.Name)
		if cr == nil {
			continue
		}
		for _, p := range cr.Output.Placeholders() {
			if !p.Resolved {
				t.Errorf("rule %q: output field %%%s is unknown and prints as %s", r.Name, p.Name, compile.NA)
			}
		}
		tpl, err := lang.ParseTemplate(r.Output)
		if err != nil {
			t.Errorf("rule %q: %v", r.Name, err)
			continue
		}
		for _, o := range tpl.Fields() {
			if f := lang.BaseField(o); f != nil && uncollected[f.Name] {
				t.Errorf("%s: rule %q: output field %s is never collected, so it always prints %s", f.NamePos, r.Name, f.Name, compile.NA)
			}
		}
		for _, ev := range sampleEvents() {
			var c vigilfields.Context
			c.Reset(&vigilfields.Env{}, ev, 1)
			if out := cr.Output.Render(&c, nil); len(out) == 0 {
				t.Errorf("rule %q: empty output for a %s event", r.Name, ev.Kind)
			}
		}
	}
}

// sampleEvents are an exec and an open as the sensor reports them, with no
// process table behind them: outputs must render for both.
func sampleEvents() []*vigilevent.Event {
	exec := vigilevent.New()
	exec.Kind, exec.Syscall, exec.PID, exec.TID, exec.PPID = vigilevent.KindExec, -1, 300, 300, 200
	exec.Comm = "bash"
	exec.Exec = vigilevent.Exec{Filename: "/usr/bin/bash", Exe: "/usr/bin/bash", Args: "bash\x00-c\x00id", Cwd: "/root"}
	open := vigilevent.New()
	open.Kind, open.PID, open.TID, open.PPID, open.Ret = vigilevent.KindOpen, 300, 300, 200, 3
	open.Comm = "bash"
	open.Open = vigilevent.Open{Path: "/etc/shadow", RawPath: "/etc/shadow", DirFD: -100}
	return []*vigilevent.Event{exec, open}
}

// checkExternal holds a file from outside the repository to loading
// without errors; rules it uses fields for that Vigil lacks are listed.
func checkExternal(t *testing.T, loaded *loader.RuleSet, prog *compile.Program[*vigilfields.Context], diags lang.Diagnostics) {
	t.Helper()
	warnings := 0
	for _, d := range diags {
		if d.Severity == lang.SeverityError {
			t.Errorf("%s", d)
		} else {
			warnings++
			t.Logf("%s", d)
		}
	}
	enabled := 0
	for _, r := range prog.Rules() {
		if r.Enabled {
			enabled++
		}
	}
	t.Logf("%d of %d rules compiled (%d enabled), %d warnings", len(prog.Rules()), len(loaded.Rules), enabled, warnings)
}

// describeFalcoSet renders a compiled set for its golden file.
func describeFalcoSet(loaded *loader.RuleSet, prog *compile.Program[*vigilfields.Context], diags lang.Diagnostics) string {
	var b strings.Builder
	for _, r := range loaded.Rules {
		state := "enabled"
		if !r.Enabled {
			state = "disabled"
		}
		fmt.Fprintf(&b, "rule %q (%s, %s, source=%s) at %s\n", r.Name, state, r.Priority, r.Source, r.Pos)
		if cr := prog.Rule(r.Name); cr != nil {
			types := cr.Types.Names()
			if cr.Types.Neg {
				types = []string{"every type"}
			}
			fmt.Fprintf(&b, "  compiled for: %s\n", strings.Join(types, ", "))
		} else if !r.ForThisEngine {
			b.WriteString("  not compiled: for another source\n")
		} else {
			b.WriteString("  not compiled: SKIPPED\n")
		}
		if len(r.Tags) > 0 {
			fmt.Fprintf(&b, "  tags: %s\n", strings.Join(r.Tags, ", "))
		}
		fmt.Fprintf(&b, "  desc: %s\n", r.Desc)
		fmt.Fprintf(&b, "  condition: %s\n", r.ConditionText())
		fmt.Fprintf(&b, "  output: %s\n", r.Output.Text)
	}
	if loaded.RequiredEngineVersion != "" {
		fmt.Fprintf(&b, "required engine version: %s\n", loaded.RequiredEngineVersion)
	}
	for _, p := range loaded.RequiredPlugins {
		var alts []string
		for _, a := range p.Alternatives {
			alts = append(alts, a.Name+"@"+a.Version)
		}
		fmt.Fprintf(&b, "required plugin: %s\n", strings.Join(alts, " or "))
	}
	b.WriteString("diagnostics:\n")
	for _, d := range diags {
		fmt.Fprintf(&b, "  %s\n", d)
	}
	return b.String()
}
