package detect

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/syscalls"
)

// benchEnv is a host-like process table: systemd > sshd > bash, with the
// events' process (curl, pid 300) a child of bash.
func benchEnv(b testing.TB) *fields.Env {
	tab := proc.New()
	for _, p := range []struct {
		pid, ppid uint32
		exe, args string
	}{
		{1, 0, "/usr/lib/systemd/systemd", "/sbin/init"},
		{100, 1, "/usr/sbin/sshd", "sshd: alice [priv]"},
		{200, 100, "/usr/bin/bash", "-bash"},
	} {
		ev := &event.Event{Kind: event.KindExec, Syscall: -1, PID: p.pid, PPID: p.ppid, Comm: p.exe[strings.LastIndexByte(p.exe, '/')+1:],
			Exec: event.Exec{Exe: p.exe, Args: p.args, Cwd: "/home/alice", EUID: 1000, LoginUID: 1000}}
		tab.Apply(ev)
	}
	exec := benchExec()
	tab.Apply(exec)
	return &fields.Env{Table: tab, Users: fields.StaticUsers(map[uint32]string{0: "root", 1000: "alice"}, nil)}
}

func benchExec() *event.Event {
	nr, _ := syscalls.Number("execve")
	return &event.Event{Kind: event.KindExec, Syscall: nr, PID: 300, TID: 300, PPID: 200, Comm: "curl", Timestamp: 5e9,
		Exec: event.Exec{Filename: "/usr/bin/curl", Exe: "/usr/bin/curl", Args: "curl\x00-fsSL\x00https://example.com/install.sh",
			Cwd: "/home/alice", UID: 1000, EUID: 1000, LoginUID: 1000, TTY: 34816, SID: 200, PGID: 300}}
}

func benchOpen() *event.Event {
	nr, _ := syscalls.Number("openat")
	return &event.Event{Kind: event.KindOpen, Syscall: nr, PID: 300, TID: 300, PPID: 200, Comm: "curl", Ret: 5, Timestamp: 6e9,
		Open: event.Open{Path: "/home/alice/.cache/curl/data", RawPath: ".cache/curl/data", DirFD: -100, Flags: 0x241, Mode: 0o644}}
}

func benchConnect() *event.Event {
	nr, _ := syscalls.Number("connect")
	return &event.Event{Kind: event.KindSocket, Syscall: nr, PID: 300, TID: 300, PPID: 200, Comm: "curl", Timestamp: 7e9,
		Socket: event.Socket{Op: event.OpConnect, FD: 5, Family: 2, Type: 1, Protocol: 6,
			Local: netip.MustParseAddrPort("10.0.0.5:51000"), Remote: netip.MustParseAddrPort("93.184.216.34:443")}}
}

// otherTypes are the event types the "other" rules are spread over: other
// syscalls Vigil captures and some it does not.
var otherTypes = []string{"connect", "accept4", "bind", "listen", "creat", "open", "openat2", "ptrace", "mkdir", "unlinkat", "procfork", "procexit"}

// syntheticRules returns n rules in the style of real rule files, none of
// which matches the benchmark events: the first `same` for typ, the rest
// spread over otherTypes.
func syntheticRules(n, same int, typ string) string {
	var b strings.Builder
	for i := range n {
		t := typ
		if i >= same {
			t = otherTypes[i%len(otherTypes)]
		}
		var cond string
		switch i % 4 {
		case 0:
			cond = fmt.Sprintf("evt.type = %s and proc.name in (sh, zsh, dash, tool%d) and not proc.pname in (cron, atd)", t, i)
		case 1:
			cond = fmt.Sprintf("evt.type = %s and proc.cmdline contains \"wget%d\" and user.uid = 0", t, i)
		case 2:
			cond = fmt.Sprintf("evt.type = %s and proc.aname in (tool%d, x%d) and proc.exepath pmatch (/opt/%d)", t, i, i, i)
		default:
			cond = fmt.Sprintf("evt.type = %s and fd.name startswith /var/lib/%d and not proc.name in (a, b)", t, i)
		}
		fmt.Fprintf(&b, "- rule: r%d\n  desc: d\n  condition: %s\n  output: \"r%d %%proc.name %%fd.name\"\n  priority: notice\n\n", i, cond, i)
	}
	return b.String()
}

func benchHandle(b *testing.B, p *Program, env *fields.Env, ev *event.Event) {
	d := New(Config{Program: p, Env: env, Shards: 1})
	d.Handle(0, ev) // grow the context's arena
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d.Handle(0, ev)
	}
}

// BenchmarkRules measures the cost per event of evaluating n rules: with
// only 10 rules for the event's type and the rest for other types (the
// type index makes those free), and with all n for the event's type.
func BenchmarkRules(b *testing.B) {
	env := benchEnv(b)
	for _, evName := range []string{"exec", "open"} {
		ev, typ := benchExec(), "execve"
		if evName == "open" {
			ev, typ = benchOpen(), "openat"
		}
		for _, n := range []int{10, 100, 1000} {
			for _, mix := range []string{"other-types", "same-type"} {
				same := n
				if mix == "other-types" {
					same = 10
				}
				b.Run(fmt.Sprintf("event=%s/rules=%d/%s", evName, n, mix), func(b *testing.B) {
					rs := loadText(b, syntheticRules(n, same, typ))
					if len(rs.Program.Rules()) != n {
						b.Fatalf("%d rules compiled:\n%s", len(rs.Program.Rules()), rs.Diagnostics)
					}
					benchHandle(b, rs.Program, env, ev)
				})
			}
		}
	}
}

// BenchmarkDefaultRules measures the embedded rules on typical events that
// match none of them, and on one that raises an alert.
func BenchmarkDefaultRules(b *testing.B) { benchDefaultRules(b, LoadOptions{}) }

// BenchmarkExperimentalRules is BenchmarkDefaultRules with the
// experimental rules loaded too (vigil run --experimental).
func BenchmarkExperimentalRules(b *testing.B) { benchDefaultRules(b, LoadOptions{Experimental: true}) }

func benchDefaultRules(b *testing.B, opts LoadOptions) {
	rs, err := Load(opts)
	if err != nil {
		b.Fatal(err)
	}
	env := benchEnv(b)
	shadow := benchOpen()
	shadow.Open.Path, shadow.Open.RawPath, shadow.Open.Flags = "/etc/shadow", "/etc/shadow", 0
	for _, c := range []struct {
		name string
		ev   *event.Event
	}{
		{"exec", benchExec()},
		{"open", benchOpen()},
		{"connect", benchConnect()},
		{"open-alert", shadow},
	} {
		b.Run(c.name, func(b *testing.B) { benchHandle(b, rs.Program, env, c.ev) })
	}
}

// BenchmarkRuleMatching compares rule_matching first and all on the
// embedded rules, on the events of BenchmarkDefaultRules, each event
// measured with both modes in turn so that the two share the machine's
// state: first stops at the first match, so it can only gain on events
// some rule matches.
func BenchmarkRuleMatching(b *testing.B) {
	env := benchEnv(b)
	shadow := benchOpen()
	shadow.Open.Path, shadow.Open.RawPath, shadow.Open.Flags = "/etc/shadow", "/etc/shadow", 0
	progs := map[string]*Program{}
	for _, mode := range []string{"all", "first"} {
		rs, err := Load(LoadOptions{FirstMatch: mode == "first"})
		if err != nil {
			b.Fatal(err)
		}
		progs[mode] = rs.Program
	}
	for _, c := range []struct {
		name string
		ev   *event.Event
	}{
		{"exec", benchExec()},
		{"open", benchOpen()},
		{"connect", benchConnect()},
		{"open-alert", shadow},
	} {
		for _, mode := range []string{"all", "first"} {
			b.Run(fmt.Sprintf("%s/matching=%s", c.name, mode), func(b *testing.B) { benchHandle(b, progs[mode], env, c.ev) })
		}
	}
}
