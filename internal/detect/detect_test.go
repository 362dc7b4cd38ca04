package detect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/alert/falcocheck"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/syscalls"
)

func loadText(t testing.TB, src string) *RuleSet {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	rs, err := Load(LoadOptions{Paths: []string{path}})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func rule(name, cond string) string {
	return "- rule: " + name + "\n  desc: d\n  condition: " + cond + "\n  output: \"" + name + " %proc.name\"\n  priority: notice\n\n"
}

func TestSyscallsFromRules(t *testing.T) {
	rs := loadText(t, rule("a", "evt.type = openat and proc.name = x")+
		rule("b", "evt.type in (connect, ioctl, procfork, procexit)")+
		rule("c", "evt.type = execveat"))
	if got := strings.Join(rs.Syscalls, ","); got != "connect,execveat,openat" {
		t.Errorf("syscalls %s", got)
	}
	if d := rs.Diagnostics.String(); !strings.Contains(d, `r.yaml:7:3: warning: rule "b" names event types Vigil does not capture, which it will never see: ioctl`) {
		t.Errorf("diagnostics:\n%s", d)
	}

	rs = loadText(t, rule("a", "evt.type = openat")+rule("any", "proc.name = nc")+rule("not", "not evt.type = openat and proc.name = x"))
	if got := strings.Join(rs.Syscalls, ","); got != strings.Join(syscalls.Default(), ",") {
		t.Errorf("an unrestricted rule gives %s", got)
	}
	if d := rs.Diagnostics.String(); !strings.Contains(d, `warning: rule "any" does not restrict evt.type, so every capturable syscall`) ||
		strings.Contains(d, `rule "not" does not restrict evt.type, so`) {
		t.Errorf("diagnostics:\n%s", d)
	}
}

func TestTypeIndex(t *testing.T) {
	rs := loadText(t, rule("exec", "evt.type = execve")+rule("execat", "evt.type = execveat")+
		rule("fork", "evt.type = procfork")+rule("exit", "evt.type = procexit")+rule("open", "evt.type = openat"))
	ti := newTypeIndex(rs.Program)
	nr := func(name string) int32 { n, _ := syscalls.Number(name); return n }
	for _, tc := range []struct {
		kind    event.Kind
		syscall int32
		want    string
	}{
		{event.KindExec, -1, "execve"}, // sched_process_exec without a stashed syscall
		{event.KindExec, nr("execveat"), "execveat"},
		{event.KindFork, -1, "procfork"},
		{event.KindExit, -1, "procexit"},
		{event.KindOpen, nr("openat"), "openat"},
		{event.KindOpen, nr("open"), ""},
		{event.KindSocket, 5000, ""}, // beyond the table: falls back to the name
	} {
		ev := &event.Event{Kind: tc.kind, Syscall: tc.syscall}
		if got := rs.Program.EventTypeNames()[ti.of(ev)]; got != tc.want {
			t.Errorf("%s/%d: type %q, want %q", tc.kind, tc.syscall, got, tc.want)
		}
	}
}

func openEvent(pid uint32, path string) *event.Event {
	nr, _ := syscalls.Number("openat")
	ev := event.New()
	ev.Kind, ev.Syscall, ev.PID, ev.TID, ev.Ret, ev.Comm = event.KindOpen, nr, pid, pid, 3, "cat"
	ev.Open = event.Open{Path: path, RawPath: path, DirFD: -100}
	return ev
}

func TestHandleAndStats(t *testing.T) {
	rs := loadText(t, rule("shadow", "evt.type = openat and fd.name = /etc/shadow")+rule("never", "evt.type = openat and fd.name = /nope"))
	var got []*alert.Alert
	d := New(Config{Program: rs.Program, Shards: 2, Emit: func(a *alert.Alert) bool { got = append(got, a); return len(got) < 2 }})
	for i, shard := range []int{0, 1, 7, -1} { // 7 and -1 are beyond the workers: the spare serves them
		ev := openEvent(uint32(100+i), "/etc/shadow")
		d.Handle(shard, ev)
		ev.Release()
	}
	if len(got) != 4 || got[0].Output != "shadow cat" || got[0].Context.Process.PID != 100 || got[0].Context.Identity.ContainerID != "host" {
		t.Fatalf("alerts %+v", got)
	}
	s := d.Stats()
	if s.Events != 4 || s.Alerts != 4 || s.Dropped != 3 || len(s.Rules) != 2 || s.Rules[0].Matches != 4 || s.Rules[1].Matches != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestEventNumbersAreUnique(t *testing.T) {
	rs := loadText(t, "- rule: n\n  desc: d\n  condition: evt.type = openat\n  output: \"%evt.num\"\n  priority: notice\n")
	seen := map[string]bool{}
	d := New(Config{Program: rs.Program, Shards: 3, Emit: func(a *alert.Alert) bool {
		if seen[a.Output] {
			t.Errorf("evt.num %s twice", a.Output)
		}
		seen[a.Output] = true
		return true
	}})
	for i := range 30 {
		ev := openEvent(1, "/x")
		d.Handle(i%4, ev)
		ev.Release()
	}
	if len(seen) != 30 {
		t.Errorf("%d distinct numbers", len(seen))
	}
}

func TestAlertJSONShape(t *testing.T) {
	rs := loadText(t, `- rule: Shape
  desc: d
  condition: evt.type = openat and fd.name = /etc/shadow
  output: >
    read %fd.name by %proc.name pid=%proc.pid ret=%evt.rawres ok=%evt.is_open_read
    ip=%fd.sip host=%container.id unknown=%k8s.pod.name up=%(toupper(proc.name))
  priority: critical
  tags: [a, T1003]
`)
	tab := proc.New()
	ex := &event.Event{Kind: event.KindExec, Syscall: -1, PID: 50, PPID: 1, Comm: "cat",
		Exec: event.Exec{Exe: "/usr/bin/cat", Args: "cat\x00/etc/shadow", EUID: 1000, LoginUID: proc.NoLoginUID}}
	tab.Apply(ex)
	env := &fields.Env{Table: tab, Hostname: "h1", Users: fields.StaticUsers(map[uint32]string{1000: "alice"}, nil)}
	ev := openEvent(50, "/etc/shadow")
	defer ev.Release()
	ev.CgroupID = 77
	as := New(Config{Program: rs.Program, Env: env}).Evaluate(ev)
	if len(as) != 1 {
		t.Fatalf("%d alerts", len(as))
	}
	b := as[0].AppendJSON(nil, alert.JSONOptions{})
	if err := falcocheck.CheckFalco(b); err != nil {
		t.Errorf("%v: %s", err, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if ts, _ := m["time"].(string); !strings.HasSuffix(ts, "Z") {
		t.Errorf("time %q", m["time"])
	}
	delete(m, "time")
	fields := m["output_fields"].(map[string]any)
	if _, ok := fields["evt.time"].(float64); !ok {
		t.Errorf("output_fields lacks evt.time: %v", fields)
	}
	delete(fields, "evt.time")
	m["output"] = alert.StripPrefix(m["output"].(string), "Critical")
	got, _ := json.Marshal(m)
	want := `{"context":{"identity":{"cgroup_id":77,"container_id":"host","uid":1000,"user":"alice"},` +
		`"process":{"ancestors":[],"cmdline":"cat /etc/shadow","exepath":"/usr/bin/cat","pid":50,"ppid":1}},` +
		`"hostname":"h1","output":"read /etc/shadow by cat pid=50 ret=3 ok=true ip=\u003cNA\u003e host=host unknown=\u003cNA\u003e up=CAT",` +
		`"output_fields":{"container.id":"host","evt.is_open_read":true,"evt.rawres":3,"fd.name":"/etc/shadow","fd.sip":null,` +
		`"k8s.pod.name":null,"proc.name":"cat","proc.pid":50,"toupper(proc.name)":"CAT","vigil.proc.ancestors":[]},` +
		`"priority":"Critical","rule":"Shape","source":"syscall","tags":["T1003","a"]}`
	if string(got) != want {
		t.Errorf("alert JSON\n%s\nwant\n%s", got, want)
	}
	text := string(as[0].AppendText(nil))
	if !strings.HasSuffix(text, " Critical Shape: read /etc/shadow by cat pid=50 ret=3 ok=true ip=<NA> host=host unknown=<NA> up=CAT\n") {
		t.Errorf("text %q", text)
	}
}

// blockedWriter blocks every write until released, like a stalled pipe.
type blockedWriter struct{ release chan struct{} }

func (w blockedWriter) Write(p []byte) (int, error) { <-w.release; return len(p), nil }
