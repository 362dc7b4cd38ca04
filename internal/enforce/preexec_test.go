package enforce

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/alert/falcocheck"
	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/ktime"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/testutil"
)

const preExecRules = `
- rule: Netcat hands out a shell
  desc: d
  condition: evt.type = execve and evt.rawres = 0 and proc.name = nc and (proc.args contains "-e" or proc.args contains "-c")
  output: netcat shell (cmd=%proc.cmdline parent=%proc.pname exe=%proc.exepath)
  priority: critical
  action: block
- rule: Audited tool
  desc: d
  condition: evt.type = execve and proc.name = auditme
  output: audited (cmd=%proc.cmdline)
  priority: warning
  action: block
  mode: audit
`

// alertLog keeps the alerts raised, and fails its test on any alert whose
// JSON falcosidekick would refuse or that is not in Falco's form.
type alertLog struct {
	t      testing.TB
	mu     sync.Mutex
	alerts []*alert.Alert
}

func (l *alertLog) emit(a *alert.Alert) bool {
	if err := falcocheck.CheckFalco(a.AppendJSON(nil, alert.JSONOptions{})); err != nil {
		l.t.Errorf("alert %q: %v", a.Rule, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.alerts = append(l.alerts, a)
	return true
}

// newTestEnforcer builds an enforcer over a process table seeded from the
// real /proc, so rules see real ancestry.
func newTestEnforcer(t *testing.T, rules string) (*Enforcer, *alertLog, *proc.Table) {
	t.Helper()
	rs := loadRules(t, rules)
	table := proc.New()
	if err := table.Seed("/proc"); err != nil {
		t.Fatal(err)
	}
	env := &fields.Env{Table: table, Clock: ktime.NewClock(), Hostname: "test"}
	log := &alertLog{t: t}
	det := detect.New(detect.Config{Program: rs.Program, Env: env, Shards: 1, Emit: log.emit})
	plans, _ := Plan(rs.Program, Options{})
	e := New(Config{Plans: plans, Detector: det, Emit: log.emit})
	t.Cleanup(e.Close)
	return e, log, table
}

func TestDecideExec(t *testing.T) {
	// A real process stands for the one about to exec, so its ancestry
	// (this test binary) comes from the table.
	sleeper := exec.Command("sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.KillAndWait(sleeper) })
	e, log, table := newTestEnforcer(t, preExecRules)
	pid := uint32(sleeper.Process.Pid)
	if err := table.Seed("/proc"); err != nil { // pick up the sleeper
		t.Fatal(err)
	}
	self := filepath.Base(os.Args[0])
	if len(self) > 15 {
		self = self[:15]
	}

	v := e.DecideExec(PendingExec{PID: pid, TID: pid, Exe: "/usr/bin/nc.openbsd", Filename: "/usr/bin/nc",
		Argv: []string{"nc", "-e", "/bin/sh", "127.0.0.1", "4444"}, Timestamp: 1})
	if v.Allow || v.Cacheable {
		t.Fatalf("nc -e: verdict %+v, want deny, not cacheable", v)
	}
	if len(log.alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(log.alerts))
	}
	a := log.alerts[0]
	want := "[blocked] netcat shell (cmd=nc -e /bin/sh 127.0.0.1 4444 parent=" + self + " exe=/usr/bin/nc.openbsd)"
	if a.Rule != "Netcat hands out a shell" || a.Output != want {
		t.Errorf("alert %q: %q\nwant %q", a.Rule, a.Output, want)
	}
	if en := a.Enforcement; en == nil || *en != (alert.Enforcement{Action: "block", Mode: "enforce", Outcome: "blocked", Mechanism: "fanotify-exec"}) {
		t.Errorf("enforcement %+v", a.Enforcement)
	}
	if a.Context.Process.PID != pid || a.Context.Process.ExePath != "/usr/bin/nc.openbsd" {
		t.Errorf("context %+v", a.Context.Process)
	}

	// The same program with other arguments runs.
	if v := e.DecideExec(PendingExec{PID: pid, TID: pid, Exe: "/usr/bin/nc.openbsd", Filename: "/usr/bin/nc",
		Argv: []string{"nc", "-z", "127.0.0.1", "80"}, Timestamp: 2}); !v.Allow || v.Cacheable {
		t.Errorf("nc -z: verdict %+v, want allow, not cacheable (the rule reads argv)", v)
	}
	// Audit mode allows and says it would have blocked.
	if v := e.DecideExec(PendingExec{PID: pid, TID: pid, Exe: "/opt/auditme", Argv: []string{"auditme"}}); !v.Allow {
		t.Error("an audit-mode rule denied")
	}
	if n := len(log.alerts); n != 2 || log.alerts[1].Enforcement.Outcome != "would-block" || log.alerts[1].Output != "[would-block] audited (cmd=auditme)" {
		t.Fatalf("audit alert: %d alerts, last %+v", n, log.alerts[n-1])
	}
	if s := e.Stats(); s.Blocked != 1 || s.Audited != 1 {
		t.Errorf("stats %+v", s)
	}
}
