package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/enforce"
	"github.com/vigilsec/vigil/internal/testutil"
)

const enforceRules = `- rule: Kill NAME
  desc: the program named NAME dies at exec
  condition: evt.type = execve and proc.name = NAME
  output: NAME ran (cmd=%proc.cmdline)
  priority: critical
  action: kill
  mode: MODE

- rule: Curl to a port
  desc: not compilable for the kernel
  condition: evt.type = connect and proc.name = curl and fd.rport = 4444
  output: curl (dest=%fd.name)
  priority: warning
  action: block
`

func writeEnforceRules(t *testing.T, path, name, mode string) {
	t.Helper()
	text := strings.NewReplacer("NAME", name, "MODE", mode).Replace(enforceRules)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestEnforceStatusPlan checks the plan vigil enforce status prints and
// the load-time warning about a rule the kernel cannot enforce.
func TestEnforceStatusPlan(t *testing.T) {
	bin := vigilBinary(t)
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	writeEnforceRules(t, rules, "vgplan", "audit")
	out, err := exec.Command(bin, "enforce", "status", "--rules", rules, "--json").Output()
	if err != nil {
		t.Fatalf("enforce status: %v", err)
	}
	var st enforce.Status
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatal(err)
	}
	want := []enforce.RuleStatus{
		{Name: "Kill vgplan", Action: "kill", Mode: "audit", Pre: "bpf-send-signal", Post: "pidfd",
			Policy: []string{"kill comm vgplan in host", "kill comm vgplan in containers"}},
		{Name: "Curl to a port", Action: "block", Mode: "enforce", Post: "pidfd",
			Notes: []string{rules + `:11:37: warning: rule "Curl to a port": cannot block in the kernel (proc.name cannot be evaluated in the kernel at connect); the process is killed after detection instead`}},
	}
	if !reflect.DeepEqual(st.Rules, want) {
		t.Errorf("rules:\n got %+v\nwant %+v", st.Rules, want)
	}
	if len(st.Mechanisms) != 4 {
		t.Errorf("mechanisms %+v", st.Mechanisms)
	}
	out, _ = exec.Command(bin, "rules", "validate", rules).CombinedOutput()
	if !strings.Contains(string(out), rules+`:11:37: warning: rule "Curl to a port": cannot block in the kernel`) {
		t.Errorf("validate does not report the enforcement warning:\n%s", out)
	}
}

// TestRunEnforces runs the agent with a kill rule, then reloads it into
// audit mode, and checks the alerts, the metrics and the live status.
func TestRunEnforces(t *testing.T) {
	testutil.RequireBPF(t)
	dir := t.TempDir()
	name := fmt.Sprintf("vgrk%06d", rand.IntN(1000000))
	prog := testutil.CopyExecutable(t, "/bin/touch", filepath.Join(dir, name))
	rules := filepath.Join(dir, "rules.yaml")
	writeEnforceRules(t, rules, name, "enforce")
	a := startAgent(t, nil, "--rules", rules, "--metrics-addr", "127.0.0.1:0")

	marker := filepath.Join(dir, "marker")
	err := exec.Command(prog, marker).Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("%s ended with %v, want SIGKILL", name, err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the killed program wrote its marker")
	}
	al := a.nextAlert()
	en, _ := al["enforcement"].(map[string]any)
	if al["rule"] != "Kill "+name || en["outcome"] != "killed" || en["mechanism"] != "bpf-send-signal" || en["mode"] != "enforce" {
		t.Fatalf("alert %v", al)
	}
	if out, _ := al["output"].(string); alert.StripPrefix(out, "Critical") != "[killed] "+name+" ran (cmd="+name+" "+marker+")" {
		t.Errorf("output %q", out)
	}
	// What the enforcement block says is in output_fields too, for routers
	// that keep only Falco's keys.
	if f, _ := al["output_fields"].(map[string]any); f["vigil.enforcement.outcome"] != "killed" ||
		f["vigil.enforcement.mechanism"] != "bpf-send-signal" || f["vigil.enforcement.action"] != "kill" {
		t.Errorf("output_fields %v", f)
	}
	if m := get(t, a.metrics+"/metrics"); !strings.Contains(m, `vigil_enforcement_actions_total{outcome="killed"} 1`) {
		t.Errorf("metrics lack the kill:\n%s", grepLines(m, "vigil_enforcement"))
	}
	out, err := exec.Command(vigilBinary(t), "enforce", "status", "--agent", strings.TrimPrefix(a.metrics, "http://"), "--json").Output()
	if err != nil {
		t.Fatalf("enforce status --agent: %v", err)
	}
	var st enforce.Status
	if err := json.Unmarshal(out, &st); err != nil || st.Stats == nil || st.Stats.Killed != 1 {
		t.Fatalf("live status %s (%v)", out, err)
	}

	// Reload the rule in audit mode: the program runs and the alert says
	// what would have happened.
	from := a.logCount()
	writeEnforceRules(t, rules, name, "audit")
	a.signal(syscall.SIGHUP)
	a.waitLog(from, "reload succeeded")
	if err := exec.Command(prog, marker).Run(); err != nil {
		t.Fatalf("audit mode: %v", err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Error("audit mode stopped the program")
	}
	al = a.nextAlert()
	en, _ = al["enforcement"].(map[string]any)
	if al["rule"] != "Kill "+name || en["outcome"] != "would-kill" || en["mode"] != "audit" {
		t.Fatalf("audit alert %v", al)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
