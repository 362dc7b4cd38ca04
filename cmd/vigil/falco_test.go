package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

const falcoCLIRules = `- rule: CLI marker ran
  desc: the marker program ran
  condition: evt.type = execve and proc.name = NAME
  output: marker ran (cmd=%proc.cmdline)
  priority: warning
  tags: [b, a]
- rule: CLI marker shadowed
  desc: matches the same exec, after the first
  condition: evt.type = execve and proc.name = NAME
  output: shadowed
  priority: error
`

// TestFalcoCommandLine: Falco's listing flags and --dry-run on vigil run
// (none of which touches the kernel), vigil fields, --version, and the
// --format flags the report commands share.
func TestFalcoCommandLine(t *testing.T) {
	bin := vigilBinary(t)
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rules, []byte(strings.ReplaceAll(falcoCLIRules, "NAME", "clitest")), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("vigil %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
		}
		return string(out)
	}
	if out := run("--version"); !strings.HasPrefix(out, "vigil ") || !strings.Contains(out, "commit") {
		t.Errorf("--version: %q", out)
	}
	if out := run("run", "-r", rules, "-L"); !strings.Contains(out, "CLI marker ran") || !strings.Contains(out, "the marker program ran") {
		t.Errorf("-L:\n%s", out)
	}
	var one map[string]any
	if err := json.Unmarshal([]byte(run("run", "-r", rules, "-l", "CLI marker shadowed", "--format", "json")), &one); err != nil ||
		one["name"] != "CLI marker shadowed" || one["priority"] != "Error" || one["output"] != "shadowed" {
		t.Errorf("-l --format json: %v %v", one, err)
	}
	if out, err := exec.Command(bin, "run", "-r", rules, "-l", "No such rule").CombinedOutput(); err == nil {
		t.Errorf("-l of an unknown rule: %s", out)
	}
	var all struct{ Rules []map[string]any }
	if err := json.Unmarshal([]byte(run("rules", "list", "-r", rules, "--format", "json")), &all); err != nil || len(all.Rules) != 2 {
		t.Errorf("rules list --format json: %v %v", all, err)
	}
	var fl struct {
		Source string
		Fields []struct{ Name, Type, Desc string }
	}
	if err := json.Unmarshal([]byte(run("fields", "--format", "json")), &fl); err != nil || fl.Source != "syscall" || len(fl.Fields) < 100 {
		t.Errorf("fields --format json: %d fields, %v", len(fl.Fields), err)
	}
	if md := run("run", "--list", "--format", "markdown"); !strings.Contains(md, "| `proc.name` | string |") {
		t.Errorf("--list --format markdown lacks proc.name")
	}
	if txt := run("run", "--list=syscall"); !strings.Contains(txt, "proc.cmdline") {
		t.Errorf("--list=syscall lacks proc.cmdline")
	}
	if out, err := exec.Command(bin, "run", "--list=k8s_audit").CombinedOutput(); err == nil {
		t.Errorf("--list of another source: %s", out)
	}

	// --dry-run on a falco.yaml, with -o in Falco's and Vigil's names.
	falco := filepath.Join(dir, "falco.yaml")
	if err := os.WriteFile(falco, []byte("rules_files: ["+rules+"]\nstdout_output: {enabled: true}\nload_plugins: [json]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "-c", falco, "--dry-run", "-o", "json_output=true", "-o", "outputs.http.enabled=true",
		"-o", "http_output.url=http://127.0.0.1:2801/")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("--dry-run: %v\n%s", err, out)
	}
	for _, want := range []string{"falco.yaml key has no meaning in Vigil; ignored", "key=load_plugins", "line=3",
		`msg="dry run: 2 rules would run; not attaching to the kernel"`, "output=http"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("--dry-run output lacks %q:\n%s", want, out)
		}
	}
	if out, err := exec.Command(bin, "run", "-c", falco, "--dry-run", "-o", "no_such_key=1").CombinedOutput(); err == nil {
		t.Errorf("-o with an unknown key: %s", out)
	}

	// --format spelled the same by the report commands, --json kept.
	for _, args := range [][]string{{"version", "--format", "json"}, {"version", "--json"}} {
		var v map[string]any
		if err := json.Unmarshal([]byte(run(args...)), &v); err != nil || v["version"] == nil {
			t.Errorf("%v: %v %v", args, v, err)
		}
	}
	if out, err := exec.Command(bin, "version", "--format", "yaml").CombinedOutput(); err == nil {
		t.Errorf("version --format yaml: %s", out)
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(run("enforce", "status", "-r", rules, "--format", "json")), &st); err != nil {
		t.Errorf("enforce status --format json: %v", err)
	}
}

// TestRunFalcoConfigAndFlags runs the agent on a falco.yaml with Falco's
// flags: -c, -r, -o, -P. rule_matching: first (Falco's default) lets only
// the first of two matching rules alert; the alert is Falco's JSON with
// the message property -o asked for; --support describes the run.
func TestRunFalcoConfigAndFlags(t *testing.T) {
	testutil.RequireBPF(t)
	dir := t.TempDir()
	name := fmt.Sprintf("vgfc%06d", rand.IntN(1000000))
	prog := testutil.CopyExecutable(t, "/bin/true", filepath.Join(dir, name))
	rules := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rules, []byte(strings.ReplaceAll(falcoCLIRules, "NAME", name)), 0o644); err != nil {
		t.Fatal(err)
	}
	falco := filepath.Join(dir, "falco.yaml")
	if err := os.WriteFile(falco, []byte("json_output: true\nstdout_output:\n  enabled: true\nwatch_config_files: false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pidfile := filepath.Join(dir, "vigil.pid")
	a := startAgent(t, nil, "-c", falco, "-r", rules, "-o", "json_include_message_property=true", "-P", pidfile)
	b, err := os.ReadFile(pidfile)
	if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); err != nil || pid != a.cmd.Process.Pid {
		t.Errorf("pidfile %q (%v), agent pid %d", b, err, a.cmd.Process.Pid)
	}
	if err := exec.Command(prog).Run(); err != nil {
		t.Fatal(err)
	}
	al := a.nextAlert()
	if al["rule"] != "CLI marker ran" || al["message"] != "marker ran (cmd="+name+")" ||
		fmt.Sprint(al["tags"]) != "[a b]" || al["source"] != "syscall" {
		t.Errorf("alert %v", al)
	}
	// Only the first matching rule: no second alert for the same exec.
	if err := exec.Command(prog).Run(); err != nil {
		t.Fatal(err)
	}
	if al := a.nextAlert(); al["rule"] != "CLI marker ran" {
		t.Errorf("second alert %v: rule_matching first let another rule through", al)
	}
	a.signal(syscall.SIGTERM)
	if err := a.cmd.Wait(); err != nil {
		t.Errorf("vigil run after SIGTERM: %v", err)
	}
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Errorf("pidfile left behind: %v", err)
	}

	out, err := exec.Command(vigilBinary(t), "run", "-c", falco, "-r", rules, "--support").Output()
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Version        string
		KernelFeatures []map[string]any `json:"kernel_features"`
		Config         struct {
			Kind, SHA256 string
			Effective    map[string]any
		}
		Rules struct {
			Files   []struct{ Name, SHA256 string }
			Digest  string
			Enabled int
		}
	}
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if s.Version == "" || len(s.KernelFeatures) == 0 || s.Config.Kind != "falco" || len(s.Config.SHA256) != 64 ||
		s.Config.Effective["rule_matching"] != "first" || len(s.Rules.Files) != 1 || s.Rules.Files[0].Name != rules ||
		len(s.Rules.Digest) != 64 || s.Rules.Enabled != 2 {
		t.Errorf("support %s", out)
	}
}
