package enforce

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/rules/loader"
)

// loadRules compiles a rules file written by the test.
func loadRules(t *testing.T, text string) *detect.RuleSet {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	rs, err := detect.Load(detect.LoadOptions{Paths: []string{path}})
	if err != nil {
		t.Fatal(err)
	}
	if rs.Diagnostics.HasErrors() {
		t.Fatalf("rules: %v", rs.Diagnostics)
	}
	return rs
}

const planRules = `
- list: blocked_nets
  items: ["10.66.0.0/16", "192.0.2.7"]
- rule: No C2 from containers
  desc: d
  condition: evt.type = connect and container.id != host and (fd.rnet in (blocked_nets) or fd.rport = 4444) and (evt.rawres = 0 or evt.res = EINPROGRESS)
  output: o
  priority: critical
  action: block
- rule: Outbound except loopback
  desc: d
  condition: evt.type = connect and fd.sockfamily = ip and fd.rport = 25 and not fd.snet in ("127.0.0.0/8")
  output: o
  priority: warning
  action: block
  mode: audit
- rule: Connect by name
  desc: d
  condition: evt.type = connect and proc.name = curl and fd.rport = 80
  output: o
  priority: warning
  action: block
- rule: Miner
  desc: d
  condition: evt.type in (execve, execveat) and evt.rawres = 0 and proc.name in (xmrig, minerd-with-a-long-name)
  output: o
  priority: critical
  action: kill
- rule: Netcat exec
  desc: d
  condition: evt.type = execve and proc.name = nc and proc.args contains "-e"
  output: o
  priority: critical
  action: kill
- rule: Block netcat exec
  desc: d
  condition: evt.type = execve and proc.name = nc and proc.args contains "-e"
  output: o
  priority: critical
  action: block
- rule: Shadow
  desc: d
  condition: evt.type in (open, openat) and fd.name in (/etc/shadow, /etc/gshadow) and not proc.name in (passwd)
  output: o
  priority: critical
  action: block
- rule: Secrets dir
  desc: d
  condition: evt.type = openat and fd.name startswith /run/secrets/
  output: o
  priority: critical
  action: block
- rule: Any open
  desc: d
  condition: evt.type = openat and proc.name = cat
  output: o
  priority: critical
  action: block
- rule: Escape
  desc: d
  condition: evt.type = execve and proc.name = nsenter and container.id != host
  output: o
  priority: critical
  action: kill-container
- rule: Preload on setuid
  desc: d
  condition: evt.type = execve and proc.name = su and proc.loader_env[LD_PRELOAD] exists
  output: o
  priority: critical
  action: block
- rule: Fileless
  desc: d
  condition: evt.type in (execve, execveat) and evt.rawres = 0 and proc.is_exe_from_memfd = true
  output: o
  priority: critical
  action: block
- rule: Fileless named
  desc: d
  condition: evt.type = execveat and proc.is_exe_from_memfd = true and proc.name = x and container.id != host
  output: o
  priority: critical
  action: kill
- rule: Plain alert
  desc: d
  condition: evt.type = execve and proc.name = sh
  output: o
  priority: notice
`

func TestPlan(t *testing.T) {
	rs := loadRules(t, planRules)
	plans, diags := Plan(rs.Program, Options{})
	by := map[string]*RulePlan{}
	for _, p := range plans {
		by[p.Rule.Name] = p
	}
	if _, ok := by["Plain alert"]; ok {
		t.Error("an alert-only rule got a plan")
	}
	if len(plans) != 13 {
		t.Fatalf("%d plans, want 13", len(plans))
	}
	pfx := netip.MustParsePrefix
	containers := Scope{Kind: ScopeAllContainers}
	check := func(name string, pre, post Mechanism, mode loader.Mode) *RulePlan {
		t.Helper()
		p := by[name]
		if p == nil {
			t.Fatalf("no plan for %q", name)
		}
		if p.Pre != pre || p.Post != post || p.Mode != mode {
			t.Errorf("%s: pre %v post %v mode %v, want %v %v %v", name, p.Pre, p.Post, p.Mode, pre, post, mode)
		}
		return p
	}
	c2 := check("No C2 from containers", MechCgroupSock, MechPidfdKill, loader.ModeEnforce)
	want := []NetRule{
		{Scope: containers, Prefix: pfx("10.66.0.0/16")},
		{Scope: containers, Prefix: pfx("192.0.2.7/32")},
		{Scope: containers, Port: 4444},
	}
	// (a or b) and (c or d) expands to four alternatives; the result tests
	// drop out, so each destination appears twice.
	if got := dedupe(c2.Net); !reflect.DeepEqual(got, want) {
		t.Errorf("C2 policy:\n got %+v\nwant %+v", got, want)
	}
	smtp := check("Outbound except loopback", MechCgroupSock, MechPidfdKill, loader.ModeAudit)
	host, cont := Scope{Kind: ScopeHost}, containers
	wantSMTP := []NetRule{
		{Scope: host, Port: 25}, {Scope: host, Prefix: pfx("127.0.0.0/8"), Port: 25, Allow: true},
		{Scope: cont, Port: 25}, {Scope: cont, Prefix: pfx("127.0.0.0/8"), Port: 25, Allow: true},
	}
	if !reflect.DeepEqual(smtp.Net, wantSMTP) {
		t.Errorf("smtp policy:\n got %+v\nwant %+v", smtp.Net, wantSMTP)
	}
	check("Connect by name", 0, MechPidfdKill, loader.ModeEnforce)
	miner := check("Miner", MechKernelKill, MechPidfdKill, loader.ModeEnforce)
	wantMiner := []ExecRule{{Scope: host, Comm: "xmrig"}, {Scope: host, Comm: "minerd-with-a-l"},
		{Scope: cont, Comm: "xmrig"}, {Scope: cont, Comm: "minerd-with-a-l"}}
	if !reflect.DeepEqual(miner.Exec, wantMiner) {
		t.Errorf("miner policy:\n got %+v\nwant %+v", miner.Exec, wantMiner)
	}
	check("Netcat exec", 0, MechPidfdKill, loader.ModeEnforce)
	check("Block netcat exec", MechFanotifyExec, MechPidfdKill, loader.ModeEnforce)
	shadow := check("Shadow", MechFanotifyOpen, MechPidfdKill, loader.ModeEnforce)
	if !reflect.DeepEqual(shadow.OpenPaths, []string{"/etc/gshadow", "/etc/shadow"}) {
		t.Errorf("shadow paths %v", shadow.OpenPaths)
	}
	secrets := check("Secrets dir", MechFanotifyOpen, MechPidfdKill, loader.ModeEnforce)
	if !reflect.DeepEqual(secrets.OpenPaths, []string{"/run/secrets"}) {
		t.Errorf("secrets paths %v", secrets.OpenPaths)
	}
	check("Any open", 0, MechPidfdKill, loader.ModeEnforce)
	check("Escape", 0, MechRuntimeKill, loader.ModeEnforce)
	check("Preload on setuid", 0, MechPidfdKill, loader.ModeEnforce)
	fileless := check("Fileless", MechKernelKill, MechPidfdKill, loader.ModeEnforce)
	if want := []ExecRule{{Scope: host, Memfd: true}, {Scope: cont, Memfd: true}}; !reflect.DeepEqual(fileless.Exec, want) {
		t.Errorf("fileless policy:\n got %+v\nwant %+v", fileless.Exec, want)
	}
	check("Fileless named", 0, MechPidfdKill, loader.ModeEnforce)
	if got := Describe([]*RulePlan{fileless})[0].Policy; !reflect.DeepEqual(got, []string{"kill any memfd program in host", "kill any memfd program in containers"}) {
		t.Errorf("fileless described as %q", got)
	}

	// Each weakened rule says why, at the condition's offending part.
	var lines []string
	for _, d := range diags {
		lines = append(lines, d.String())
	}
	text := strings.Join(lines, "\n")
	for _, w := range []string{
		`rules.yaml:19:37: warning: rule "Connect by name": cannot block in the kernel (proc.name cannot be evaluated in the kernel at connect); the process is killed after detection`,
		`rules.yaml:31:55: warning: rule "Netcat exec": killed after detection, not in the kernel: proc.args cannot be evaluated in the kernel at exec`,
		`rules.yaml:55:14: warning: rule "Any open": cannot block before the open (the condition does not name the files it protects`,
		`rules.yaml:79:14: warning: rule "Fileless named": killed after detection, not in the kernel: a test on both the program and proc.is_exe_from_memfd cannot be enforced in the kernel`,
		`rules.yaml:67:55: warning: rule "Preload on setuid": proc.loader_env is known only once the exec has happened, so the exec cannot be refused; the process is killed after detection instead`,
		`rules.yaml:40:11: warning: rule "Block netcat exec": host processes (those outside containers) are not protected before the exec: exec blocking marks only containers' mounts unless enforcement.host_exec is true`,
	} {
		if !strings.Contains(text, w) {
			t.Errorf("diagnostics lack %q:\n%s", w, text)
		}
	}
	if n := len(diags); n != 6 {
		t.Errorf("%d diagnostics, want 6:\n%s", n, text)
	}
}

// TestPlanHostExec: an exec block rule that can match a host process says,
// at its action key, that those execs are not refused unless
// enforcement.host_exec is on, and what happens instead; rules confined to
// containers, and every rule with host_exec on, say nothing.
func TestPlanHostExec(t *testing.T) {
	for _, tc := range []struct {
		scope string // the condition's container test, after "evt.type = execve and proc.name = nc"
		want  string // "" for no note
	}{
		{"", "host processes (those outside containers) are not protected before the exec"},
		{"and container.id != host", ""},
		{"and in_container", ""},
		{"and not container.id = host", ""},
		{"and container.id in (0123456789ab, ba9876543210)", ""},
		{"and container.id = 0123456789ab", ""},
		{"and container.id = host", "the rule matches only host processes (container.id = host), and none of them is protected before the exec"},
		{"and not in_container", "the rule matches only host processes"},
		{"and container.id != 0123456789ab", "host processes (those outside containers) are not protected"},
		{"and (container.id != host or user.uid = 0)", "host processes (those outside containers) are not protected"},
		{"and (container.id != host or container.id = host)", "host processes (those outside containers) are not protected"},
	} {
		rules := `
- macro: in_container
  condition: container.id != host
- rule: Block nc
  desc: d
  condition: evt.type = execve and proc.name = nc ` + tc.scope + `
  output: o
  priority: critical
  action: block
`
		rs := loadRules(t, rules)
		plans, diags := Plan(rs.Program, Options{})
		if len(plans) != 1 || plans[0].Pre != MechFanotifyExec || plans[0].Post != MechPidfdKill {
			t.Fatalf("%q: plans %+v", tc.scope, plans)
		}
		switch {
		case tc.want == "" && len(diags) != 0:
			t.Errorf("%q: unexpected notes %v", tc.scope, diags)
		case tc.want != "" && (len(diags) != 1 || !strings.Contains(diags[0].String(), tc.want)):
			t.Errorf("%q: notes %v, want one saying %q", tc.scope, diags, tc.want)
		case tc.want != "":
			if d := diags[0]; d.Pos.Line != 9 || d.Pos.Col != 11 || !strings.Contains(d.Message, "enforcement.host_exec: true") {
				t.Errorf("%q: note at %s: %s", tc.scope, d.Pos, d.Message)
			}
			// vigil enforce status shows the plan's notes.
			if notes := Describe(plans)[0].Notes; len(notes) != 1 || !strings.Contains(notes[0], tc.want) {
				t.Errorf("%q: status notes %q", tc.scope, notes)
			}
		}
		if _, diags := Plan(rs.Program, Options{HostExec: true}); len(diags) != 0 {
			t.Errorf("%q with host_exec: notes %v", tc.scope, diags)
		}
	}
}

func TestPlanGlobalAuditAndAlertFallback(t *testing.T) {
	rs := loadRules(t, planRules)
	plans, _ := Plan(rs.Program, Options{Mode: loader.ModeAudit, NetFallbackAlert: true})
	for _, p := range plans {
		want := loader.ModeAudit
		if p.Rule.Mode == loader.ModeEnforce {
			want = loader.ModeEnforce
		}
		if p.Mode != want {
			t.Errorf("%s: mode %v, want %v", p.Rule.Name, p.Mode, want)
		}
		if p.Rule.Name == "Connect by name" && (p.Pre != 0 || p.Post != 0) {
			t.Errorf("connect fallback with net_fallback alert: pre %v post %v", p.Pre, p.Post)
		}
	}
}

func dedupe(rules []NetRule) []NetRule {
	var out []NetRule
	seen := map[NetRule]bool{}
	for _, r := range rules {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}
