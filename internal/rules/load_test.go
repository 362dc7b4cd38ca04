package rules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vigilsec/vigil/internal/rules/compile"
)

type event struct {
	typ, proc string
}

var fields = compile.FieldMap[*event]{
	"evt.type":  compile.StringField(func(e *event) (string, bool) { return e.typ, true }),
	"proc.name": compile.StringField(func(e *event) (string, bool) { return e.proc, e.proc != "" }),
}

// TestLoad shows the whole pipeline as an engine uses it: load a rules
// directory, compile, then match events by type.
func TestLoad(t *testing.T) {
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
	p, diags, err := Load[*event](fields, Options{}, dir)
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
	if _, _, err := Load[*event](fields, Options{}, filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("no error for a missing file")
	}
}
