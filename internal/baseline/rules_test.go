package baseline_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/baseline"
	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/rules/loader"
	"github.com/vigilsec/vigil/internal/workload"
)

// loadRules loads exported rules with Vigil's own loader, strictly,
// against the real field registry.
func loadRules(t *testing.T, data []byte) *detect.RuleSet {
	t.Helper()
	path := filepath.Join(t.TempDir(), "baseline.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	rs, err := detect.Load(detect.LoadOptions{Paths: []string{path}, Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if rs.Diagnostics.HasErrors() {
		t.Fatalf("the exported rules do not load:\n%v\n%s", rs.Diagnostics, data)
	}
	return rs
}

func TestRulesExportLoadsAndMatches(t *testing.T) {
	_, d := baseline.LearnedDocument(t, baseline.Protect)
	data, err := d.Rules(nil)
	if err != nil {
		t.Fatal(err)
	}
	rs := loadRules(t, data)
	var names []string
	for _, r := range rs.Loaded.Rules {
		names = append(names, r.Name)
		wantBlock := strings.Contains(r.Name, "new executable") || strings.Contains(r.Name, "new outbound")
		if (r.Action == loader.ActionBlock) != wantBlock {
			t.Errorf("%s: action %v", r.Name, r.Action)
		}
	}
	if len(names) != 8 {
		t.Fatalf("rules: %q", names)
	}

	table := proc.New()
	table.Apply(baseline.ExecEvent(100, 1, "/bin/sh"))
	det := detect.New(detect.Config{Program: rs.Program, Env: &fields.Env{Table: table, Containers: baseline.PodLookup{Info: baseline.WebPod}}, Shards: 1})
	rulesFor := func(ev *event.Event) []string {
		var out []string
		for _, a := range det.Evaluate(ev) {
			out = append(out, a.Rule)
		}
		return out
	}
	newExec := baseline.ExecEvent(101, 100, "/usr/bin/nc")
	newExec.Exec.EUID = 101
	knownExec := baseline.ExecEvent(102, 100, "/usr/bin/curl")
	knownExec.Exec.EUID = 101
	for _, tc := range []struct {
		name string
		ev   *event.Event
		want []string
	}{
		{"new executable", newExec, []string{"Baseline drift: new executable (" + baseline.Web.ID + ")", "Baseline drift: new parent process (" + baseline.Web.ID + ")"}},
		{"known executable", knownExec, nil},
		{"known write", baseline.OpenEvent(100, "/var/log/nginx/access.log", baseline.OWronly), nil},
		{"write under a learned pattern", baseline.OpenEvent(100, "/tmp/tmp.Q2wE4rT6yU", baseline.OWronly), nil},
		{"new write", baseline.OpenEvent(100, "/etc/passwd", baseline.OWronly), []string{"Baseline drift: new file written (" + baseline.Web.ID + ")"}},
		{"new sensitive read", baseline.OpenEvent(100, "/etc/shadow", 0), []string{"Baseline drift: new sensitive file read (" + baseline.Web.ID + ")"}},
		{"known sensitive read", baseline.OpenEvent(100, "/var/run/secrets/kubernetes.io/serviceaccount/token", 0), nil},
		{"other read", baseline.OpenEvent(100, "/etc/hosts", 0), nil},
		{"known connect", baseline.SocketEvent(100, "connect", event.OpConnect, baseline.SockStream, "10.244.0.9:40000", "10.0.0.5:443", 0), nil},
		{"new connect", baseline.SocketEvent(100, "connect", event.OpConnect, baseline.SockStream, "10.244.0.9:40000", "10.0.0.5:22", 0),
			[]string{"Baseline drift: new outbound connection (" + baseline.Web.ID + ")"}},
		{"known listen", baseline.SocketEvent(100, "listen", event.OpListen, baseline.SockStream, "0.0.0.0:8080", "", 0), nil},
		{"new listen", baseline.SocketEvent(100, "listen", event.OpListen, baseline.SockStream, "0.0.0.0:9999", "", 0),
			[]string{"Baseline drift: new listening port (" + baseline.Web.ID + ")"}},
		{"known accept", baseline.SocketEvent(100, "accept4", event.OpAccept, baseline.SockStream, "10.244.0.9:8080", "10.244.1.7:5000", 5), nil},
		{"new accept", baseline.SocketEvent(100, "accept4", event.OpAccept, baseline.SockStream, "10.244.0.9:8080", "192.0.2.1:5000", 5),
			[]string{"Baseline drift: new inbound connection (" + baseline.Web.ID + ")"}},
	} {
		table.Apply(tc.ev)
		got := rulesFor(tc.ev)
		slices.Sort(got)
		slices.Sort(tc.want)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: alerts %q, want %q", tc.name, got, tc.want)
		}
	}

	// Another workload's events are out of scope.
	other := &container.Info{ID: strings.Repeat("d", 64), Name: "app", Pod: &container.Pod{Name: "api-x", Namespace: "shop",
		ContainerName: "app", FromAPI: true, Owner: container.Owner{Deployment: "api"}}}
	det = detect.New(detect.Config{Program: rs.Program, Env: &fields.Env{Table: table, Containers: baseline.PodLookup{Info: other}}, Shards: 1})
	if got := rulesFor(newExec); len(got) != 0 {
		t.Errorf("another workload matched: %q", got)
	}
}

func TestRulesScopes(t *testing.T) {
	for _, tc := range []struct {
		w    *workload.Workload
		want string
	}{
		{workload.NewK8s("shop", workload.OwnerDeployment, "web", "app", true), `k8s.pod.name glob "web-*-*"`},
		{workload.NewK8s("db", workload.OwnerStatefulSet, "pg", "pg", false), `k8s.statefulset.name = "pg"`},
		{workload.NewImage("docker.io/library/nginx@sha256:ab", "web"), `container.image.digest = "sha256:ab"`},
		{workload.NewImage("registry:5000/app:1.2", "web"), `container.image.repository = "registry:5000/app" and container.image.tag = "1.2"`},
		{workload.NewExe("/usr/sbin/a-very-long-daemon-name"), `proc.sname = "a-very-long-dae"`},
	} {
		d := baseline.NewDocument(tc.w, baseline.Monitor, 1, 1, 1, 1, []baseline.Item{{Dim: baseline.DimExec, A: "/bin/sh"}, {Dim: baseline.DimUser, A: "*"}})
		data, err := d.Rules(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), tc.want) {
			t.Errorf("%s: scope lacks %s:\n%s", tc.w.ID, tc.want, data)
		}
		loadRules(t, data)
	}
	d := baseline.NewDocument(workload.NewUnit("nginx.service"), baseline.Monitor, 1, 1, 1, 1, nil)
	if _, err := d.Rules(nil); !errors.Is(err, baseline.ErrNoRuleScope) {
		t.Errorf("a systemd unit: %v", err)
	}
}
