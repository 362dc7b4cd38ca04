package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/detect"
)

// vigil runs the built binary and returns stdout, stderr and the exit code.
func vigil(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("vigil %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

const brokenRules = `- list: unused_list
  items: [a]

- macro: shell
  condition: proc.name in (bash, sh)

- rule: Broken condition
  desc: d
  condition: evt.type = execve and (proc.name = x
  output: o
  priority: WARNING

- rule: Unknown macro
  desc: d
  condition: evt.type = execve and no_such_macro
  output: o
  priority: WARNING

- rule: Unknown field
  desc: d
  condition: evt.type = execve and proc.nosuch = 1
  output: o
  priority: WARNING

- rule: Every event
  desc: d
  condition: shell
  output: o
  priority: NOTICE

- rule: Every event
  desc: d
  condition: shell and evt.type = ioctl
  output: o
  priority: NOTICE
`

func TestRulesValidate(t *testing.T) {
	bin := vigilBinary(t)
	path := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(path, []byte(brokenRules), 0o644); err != nil {
		t.Fatal(err)
	}

	stdout, stderr, code := vigil(t, bin, "rules", "validate", path)
	if code == 0 {
		t.Errorf("validate exited 0 on a broken file")
	}
	for _, want := range []string{
		path + ":1:3: warning: list \"unused_list\" is not used by any rule, macro or list",
		path + ":9:36: error: rule \"Broken condition\": unclosed '(': missing ')'",
		path + ":15:36: error: rule \"Unknown macro\": undefined macro \"no_such_macro\"",
		path + ":21:36: warning: rule \"Unknown field\" is skipped: unknown field \"proc.nosuch\"",
		path + ":31:3: warning: rule \"Every event\" redefines the rule at " + path + ":25:3",
		path + ":31:3: warning: rule \"Every event\" names event types Vigil does not capture, which it will never see: ioctl",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("validate output lacks\n  %s\ngot:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "2 errors") {
		t.Errorf("stderr: %s", stderr)
	}

	// Strict makes the unknown field an error.
	stdout, _, _ = vigil(t, bin, "rules", "validate", "--strict", path)
	if !strings.Contains(stdout, path+":21:36: error: rule \"Unknown field\" is not loaded: unknown field \"proc.nosuch\"") {
		t.Errorf("strict output:\n%s", stdout)
	}

	// A rule without evt.type is a warning; the file is otherwise valid.
	ok := filepath.Join(t.TempDir(), "ok.yaml")
	if err := os.WriteFile(ok, []byte("- rule: Any\n  desc: d\n  condition: proc.name = nc\n  output: o\n  priority: NOTICE\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, code = vigil(t, bin, "rules", "validate", ok)
	if code != 0 || !strings.Contains(stdout, ok+":1:3: warning: rule \"Any\" does not restrict evt.type") {
		t.Errorf("exit %d, output:\n%s", code, stdout)
	}
}

func TestRulesListAndTest(t *testing.T) {
	bin := vigilBinary(t)
	stdout, _, code := vigil(t, bin, "rules", "list")
	if code != 0 {
		t.Fatalf("list exited %d", code)
	}
	embedded, err := detect.Load(detect.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 1+len(embedded.Loaded.Rules) || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("list:\n%s", stdout)
	}
	if f := strings.Fields(lines[1]); f[len(f)-1] != "execve,execveat" || strings.Join(f[6:9], " ") != "Warning syscall true" {
		t.Errorf("first rule: %q", lines[1])
	}

	fixtures := filepath.Join("..", "..", "rules", "testdata", "vigil_rules_test.yaml")
	text, err := os.ReadFile(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	tests := strings.Count(string(text), "\n  - name: ")
	stdout, _, code = vigil(t, bin, "rules", "test", fixtures)
	if code != 0 || tests < 75 || !strings.HasSuffix(stdout, fmt.Sprintf("%d passed, 0 failed\n", tests)) {
		t.Errorf("rules test exited %d:\n%s", code, stdout)
	}

	experimental := filepath.Join("..", "..", "rules", "testdata", "experimental_test.yaml")
	stdout, _, code = vigil(t, bin, "rules", "test", "--experimental", experimental)
	if code != 0 || !strings.Contains(stdout, " passed, 0 failed\n") {
		t.Errorf("rules test --experimental exited %d:\n%s", code, stdout)
	}
	if _, _, code = vigil(t, bin, "rules", "test", experimental); code == 0 {
		t.Error("the experimental fixture passed without the experimental rules loaded")
	}

	fixture := filepath.Join(t.TempDir(), "f.yaml")
	if err := os.WriteFile(fixture, []byte("tests:\n  - name: wrong\n    event: {evt.type: openat, proc.name: cat, fd.name: /etc/hosts}\n    fire: [Write below /etc]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, code = vigil(t, bin, "rules", "test", fixture)
	if code == 0 || !strings.Contains(stdout, "FAIL "+fixture+":2:5: wrong\n  \"Write below /etc\" did not fire (fired: none)") {
		t.Errorf("failing fixture exited %d:\n%s", code, stdout)
	}
}
