package rules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vigilsec/vigil/internal/rules/compile"
	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/rules/loader"
)

// load reads rule files and directories in order and compiles them
// against r, the way detect.Load does with Vigil's fields: the error is
// for files that cannot be read, everything else is in the diagnostics.
func load[C any](r compile.FieldResolver[C], paths ...string) (*compile.Program[C], lang.Diagnostics, error) {
	rs, err := loader.Load(loader.Options{}, paths...)
	if err != nil {
		return nil, nil, err
	}
	p, diags := compile.Compile(rs, r, compile.Options{})
	return p, append(rs.Diagnostics, diags...), nil
}

type event struct {
	typ, proc string
}

var fields = compile.FieldMap[*event]{
	"evt.type":  compile.StringField(func(e *event) (string, bool) { return e.typ, true }),
	"proc.name": compile.StringField(func(e *event) (string, bool) { return e.proc, e.proc != "" }),
}

// TestLoadCompileMatch shows the three packages as an engine uses them:
// load a rules directory, compile, then match events by type.
func TestLoadCompileMatch(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("00-base.yaml", `
- list: shells
  items: [bash, sh]
- rule: Shell
  desc: a shell ran
  condition: evt.type = execve and proc.name in (shells)
  output: "shell %proc.name"
  priority: warning
`)
	write("10-local.yaml", `
- list: shells
  items: [zsh]
  override:
    items: append
`)
	p, diags, err := load[*event](fields, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(diags) > 0 {
		t.Fatalf("diagnostics:\n%s", diags)
	}
	execve := p.EventType("execve")
	for proc, want := range map[string]int{"zsh": 1, "bash": 1, "vim": 0} {
		got := p.Match(&event{typ: "execve", proc: proc}, execve, nil)
		if len(got) != want {
			t.Errorf("%s matched %d rules", proc, len(got))
		}
		if len(got) == 1 {
			if out := string(got[0].Output.Render(&event{proc: proc}, nil)); out != "shell "+proc {
				t.Errorf("output %q", out)
			}
		}
	}
	if _, _, err := load[*event](fields, filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("no error for a missing file")
	}
}
