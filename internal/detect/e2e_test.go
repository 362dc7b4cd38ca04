package detect

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/agent"
	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/alert/falcocheck"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/ktime"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/sensor"
	"github.com/vigilsec/vigil/internal/testutil"
)

// e2eRules uses every construct of the Falco format the engine supports:
// lists (appended to, nested in other lists), nested macros, a macro
// amended by override, a rule amended twice (condition appended, output
// replaced), exceptions, a disabled rule, and the operators, transformers,
// val() and ancestor fields. Upper-case words are filled in per run.
const e2eRules = `
- required_engine_version: 0.26.0

- list: e2e_shells
  items: [dash, bash]

- list: e2e_shells
  items: [sh]
  override:
    items: append

- list: e2e_callers
  items: [e2e_shells, zsh]

- list: e2e_dirs
  items: ["/nonexistent", "DIR"]

- macro: e2e_exec
  condition: evt.type in (execve, execveat) and evt.res = SUCCESS

- macro: e2e_marker
  condition: e2e_exec and proc.name startswith vge2e

- macro: e2e_from_shell
  condition: proc.pname in (e2e_callers)

- macro: e2e_from_shell
  condition: and proc.aname[1] = val(proc.pname)
  override:
    condition: append

- rule: E2E marker binary
  desc: the uniquely named binary was run by a shell the test started
  condition: >
    e2e_marker and e2e_from_shell
    and proc.name = MARKER
    and proc.cmdline contains "alpha"
    and proc.exepath glob "DIR/vge2e*"
    and basename(proc.exepath) = val(proc.name)
    and toupper(proc.name) = UPPER
    and proc.aname in (e2e_shells)
    and proc.apid = TESTPID
    and not proc.args icontains "NEVER"
  exceptions:
    - name: quiet_runs
      fields: [proc.name, proc.args]
      comps: [=, contains]
      values:
        - [MARKER, quiet]
  output: "%proc.name ran %proc.cmdline from %proc.pname (gp=%proc.aname[2] exe=%proc.exepath upper=%(toupper(proc.name)) len=%(len(proc.name))) uid=%user.uid"
  priority: WARNING
  tags: [e2e, T1059]

- rule: E2E file write
  desc: a shell the test started wrote a file in the test directory
  condition: evt.type in (open, openat, openat2) and fd.name pmatch (e2e_dirs) and fd.filename startswith vge2e
  output: placeholder
  priority: NOTICE

- rule: E2E file write
  condition: and evt.is_open_write = true and evt.arg.flags contains O_TRUNC and proc.name in (e2e_shells)
  override:
    condition: append

- rule: E2E file write
  output: "write %fd.name flags=%evt.arg.flags by %proc.name parent=%proc.pname dir=%fd.directory"
  override:
    output: replace

- rule: E2E connect
  desc: a child of the test connected to the test's listener
  condition: >
    evt.type = connect and fd.sip = 127.0.0.1 and fd.sport = PORT and fd.net in (127.0.0.0/8)
    and fd.l4proto = tcp and fd.ip exists and proc.apid = TESTPID
  output: "connect %fd.name l4=%fd.l4proto res=%evt.res by %proc.name"
  priority: INFO
  tags: [e2e]

- rule: E2E disabled
  desc: must never fire
  condition: evt.type = connect and fd.sport = PORT
  output: disabled
  priority: DEBUG
  enabled: false
`

// collector gathers alerts as an Emitter would receive them, and fails
// its test on any alert whose JSON falcosidekick would refuse or that is
// not in Falco's form.
type collector struct {
	t      testing.TB
	mu     sync.Mutex
	alerts []*alert.Alert
}

func (c *collector) emit(a *alert.Alert) bool {
	if err := falcocheck.CheckFalco(a.AppendJSON(nil, alert.JSONOptions{})); err != nil {
		c.t.Errorf("alert %q: %v", a.Rule, err)
	}
	c.mu.Lock()
	c.alerts = append(c.alerts, a)
	c.mu.Unlock()
	return true
}

// waitFor waits until every rule in want has an alert and returns them by rule.
func (c *collector) waitFor(t *testing.T, want ...string) map[string][]*alert.Alert {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c.mu.Lock()
		by := map[string][]*alert.Alert{}
		for _, a := range c.alerts {
			by[a.Rule] = append(by[a.Rule], a)
		}
		c.mu.Unlock()
		missing := 0
		for _, w := range want {
			if len(by[w]) == 0 {
				missing++
			}
		}
		if missing == 0 {
			return by
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %v; got %v", want, by)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ownComm(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return strings.TrimSpace(string(out))
}

// TestRulesOnRealEvents loads a Falco-style rule file, runs the real
// agent with it, and checks that its rules fire on real events from child
// processes with exactly the output they should render.
func TestRulesOnRealEvents(t *testing.T) {
	testutil.RequireBPF(t)
	dir := t.TempDir()
	marker := fmt.Sprintf("vge2e%06d", rand.IntN(1000000))
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close() // accepted only for the connect to succeed
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	src := strings.NewReplacer("UPPER", strings.ToUpper(marker), "MARKER", marker, "DIR", dir,
		"PORT", strconv.Itoa(port), "TESTPID", strconv.Itoa(os.Getpid()), "NEVER", "never").Replace(e2eRules)
	ruleFile := filepath.Join(dir, "e2e_rules.yaml")
	if err := os.WriteFile(ruleFile, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}

	rs, err := Load(LoadOptions{Paths: []string{ruleFile}, Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Diagnostics) > 0 {
		t.Fatalf("diagnostics:\n%s", rs.Diagnostics)
	}
	if got := strings.Join(rs.Syscalls, ","); got != "connect,execve,execveat,open,openat,openat2" {
		t.Errorf("syscall filter %s", got)
	}

	col := collector{t: t}
	table := proc.New()
	env := &fields.Env{Table: table, Clock: ktime.NewClock(), Users: fields.NewUsers("/etc/passwd", "/etc/group")}
	det := New(Config{Program: rs.Program, Env: env, Emit: col.emit})
	a, err := agent.Start(agent.Config{Sensor: sensor.Config{Syscalls: rs.Syscalls}, TrackFDs: rs.NeedsFDTable, Table: table, Handler: det.Handle})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := a.Stop(); err != nil {
			t.Error(err)
		}
	}()

	bin := testutil.CopyExecutable(t, "/bin/true", filepath.Join(dir, marker))
	// "; true" keeps the shell from exec'ing the last command in place, so
	// the binary is the shell's child as the rule expects.
	run(t, "/bin/sh", "-c", bin+" alpha quiet; true")
	time.Sleep(100 * time.Millisecond) // the quiet run is evaluated before the loud one is
	run(t, "/bin/sh", "-c", bin+" alpha beta; true")
	run(t, "/bin/sh", "-c", "echo hi > "+filepath.Join(dir, marker+".out")+"; true")
	helper := exec.Command(os.Args[0])
	helper.Env = append(os.Environ(), helperEnv+"=connect", "VIGIL_DETECT_ADDR="+ln.Addr().String())
	local, err := helper.Output()
	if err != nil {
		t.Fatalf("connect helper: %v", err)
	}

	got := col.waitFor(t, "E2E marker binary", "E2E file write", "E2E connect")
	comm := ownComm(t)
	want := map[string]string{
		"E2E marker binary": fmt.Sprintf("%s ran %s alpha beta from sh (gp=%s exe=%s upper=%s len=%d) uid=0",
			marker, marker, comm, bin, strings.ToUpper(marker), len(marker)),
		"E2E file write": fmt.Sprintf("write %s flags=O_WRONLY|O_CREAT|O_TRUNC by sh parent=%s dir=%s",
			filepath.Join(dir, marker+".out"), comm, dir),
		"E2E connect": fmt.Sprintf("connect %s->127.0.0.1:%d l4=tcp res=SUCCESS by %s",
			strings.TrimSpace(string(local)), port, comm),
	}
	time.Sleep(200 * time.Millisecond) // let anything that should not fire show up
	col.mu.Lock()
	defer col.mu.Unlock()
	for rule, text := range want {
		as := got[rule]
		if len(as) != 1 {
			t.Errorf("%s fired %d times", rule, len(as))
		}
		if as[0].Output != text {
			t.Errorf("%s rendered\n %q\nwant\n %q", rule, as[0].Output, text)
		}
	}
	for _, a := range col.alerts {
		if _, ok := want[a.Rule]; !ok {
			t.Errorf("unexpected alert %s: %s", a.Rule, a.Output)
		}
	}
	m := got["E2E marker binary"][0]
	if m.Priority != "Warning" || strings.Join(m.Tags, ",") != "e2e,T1059" || m.Context.Process.Ancestors[0] != "sh" ||
		m.Context.Process.Ancestors[1] != comm || m.OutputFields["len(proc.name)"] != uint64(len(marker)) {
		t.Errorf("alert %+v", m)
	}
	if r := rs.Program.Rule("E2E marker binary"); r.Matches() != 1 {
		t.Errorf("marker rule counted %d matches", r.Matches())
	}
}
