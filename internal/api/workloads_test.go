package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/api"
)

// TestWorkloads: the list gathers workloads from the map, the baselines
// and the alerts; a workload's page has its processes, flows, listening
// ports, alerts, vulnerabilities and baseline.
func TestWorkloads(t *testing.T) {
	n := newNode(t, nil)
	p := n.env.Demo()
	var list struct {
		Workloads []api.WorkloadSummary `json:"workloads"`
	}
	n.get("/api/v1/workloads", &list)
	var ids []string
	for _, w := range list.Workloads {
		ids = append(ids, w.ID)
	}
	want := []string{"host/unit/kubelet.service", "k8s/kube-system/deployment/coredns/coredns", p.Server.ID, p.Client.ID}
	if !slices.Equal(ids, want) {
		t.Errorf("workloads %q, want %q", ids, want)
	}
	n.get("/api/v1/workloads?namespace=shop&q=api", &list)
	if len(list.Workloads) != 1 || list.Workloads[0].ID != p.Server.ID || list.Workloads[0].Vulnerabilities != 2 ||
		list.Workloads[0].Listening != 2 || list.Workloads[0].FlowsIn != 2 {
		t.Errorf("filtered: %+v", list.Workloads)
	}

	var d api.WorkloadDetail
	n.get("/api/v1/workloads/"+esc(p.Client.ID), &d)
	if d.Workload.Mode != "monitor" || d.Baseline == nil || len(d.Baseline.Outbound) != 3 || d.BaselineEntries["outbound"] != 3 {
		t.Errorf("client baseline: mode %q doc %+v", d.Workload.Mode, d.Baseline)
	}
	var comms []string
	for _, pr := range d.Processes {
		comms = append(comms, pr.Comm)
	}
	if !slices.Equal(comms, []string{"containerd-shim-runc-v2", "sh", "web"}) {
		t.Errorf("client processes %q", comms)
	}
	if len(d.Flows) != 4 || len(d.Alerts) != 1 || !strings.HasPrefix(d.Alerts[0].Alert.Rule, "Baseline drift") {
		t.Errorf("client: %d flows, alerts %+v", len(d.Flows), d.Alerts)
	}
	n.get("/api/v1/workloads/"+esc(p.Server.ID), &d)
	if len(d.Listening) != 2 || len(d.Vulnerabilities) != 2 || d.Vulnerabilities[0].Finding.IDs[0] != "CVE-2026-1001" {
		t.Errorf("server: listening %+v vulns %+v", d.Listening, d.Vulnerabilities)
	}

	for _, c := range []struct {
		path   string
		status int
	}{
		{"/api/v1/workloads/" + esc("k8s/shop/deployment/nope/x"), http.StatusNotFound},
		{"/api/v1/workloads/nginx", http.StatusBadRequest},
		{"/api/v1/workloads?kind=vm", http.StatusBadRequest},
	} {
		if st, body := n.do(http.MethodGet, c.path, "", "", nil); st != c.status {
			t.Errorf("%s: %d %s", c.path, st, body)
		}
	}
}

// TestModeChange: only an admin token changes a mode; each change is
// audited with an alert that names who did it.
func TestModeChange(t *testing.T) {
	n := newNode(t, nil)
	p := n.env.Basic()
	path := "/api/v1/workloads/" + esc(p.Server.ID) + "/mode"
	for _, c := range []struct {
		name, token, ctype, body string
		status                   int
		field                    string
	}{
		{"no token", "", "application/json", `{"mode":"monitor"}`, http.StatusUnauthorized, ""},
		{"bad token", "not-a-token-at-all", "application/json", `{"mode":"monitor"}`, http.StatusUnauthorized, ""},
		{"read-only token", n.read, "application/json", `{"mode":"monitor"}`, http.StatusForbidden, ""},
		{"form post", n.admin, "application/x-www-form-urlencoded", `mode=monitor`, http.StatusUnsupportedMediaType, "Content-Type"},
		{"unknown field", n.admin, "application/json", `{"mode":"monitor","force":true}`, http.StatusBadRequest, "force"},
		{"bad mode", n.admin, "application/json", `{"mode":"enforce"}`, http.StatusBadRequest, "mode"},
		{"trailing data", n.admin, "application/json", `{"mode":"monitor"} {}`, http.StatusBadRequest, ""},
		{"wrong type", n.admin, "application/json", `{"mode":1}`, http.StatusBadRequest, "mode"},
		{"too big", n.admin, "application/json", `{"mode":"` + strings.Repeat("x", 5000) + `"}`, http.StatusRequestEntityTooLarge, ""},
	} {
		req, _ := http.NewRequest(http.MethodPost, n.ts.URL+path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.ctype)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := n.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e api.Error
		decodeJSON(t, resp, &e)
		if resp.StatusCode != c.status || e.Field != c.field || e.Message == "" {
			t.Errorf("%s: %d %+v, want %d field %q", c.name, resp.StatusCode, e, c.status, c.field)
		}
	}
	if m, _ := n.env.Baselines.Mode(p.Server.ID); m.String() != "learn" {
		t.Fatalf("mode changed to %v by a refused request", m)
	}
	var res map[string]string
	st, body := n.do(http.MethodPost, path, n.admin, `{"mode":"monitor"}`, &res)
	if st != http.StatusOK || res["mode"] != "monitor" || res["previous"] != "learn" {
		t.Fatalf("admin: %d %s", st, body)
	}
	if m, _ := n.env.Baselines.Mode(p.Server.ID); m.String() != "monitor" {
		t.Errorf("mode is %v", m)
	}
	var page alertPage
	n.get("/api/v1/alerts?rule="+strings.ReplaceAll(api.AuditRule, " ", "+"), &page)
	if len(page.Alerts) != 1 {
		t.Fatalf("%d audit alerts", len(page.Alerts))
	}
	a := page.Alerts[0].Alert
	if a.OutputFields["api.user"] != "admin" || a.OutputFields["baseline.mode.to"] != "monitor" ||
		page.Alerts[0].Workload != p.Server.ID || !strings.Contains(a.Output, "learn -> monitor") {
		t.Errorf("audit alert %+v", a)
	}
	if st, _ := n.do(http.MethodPost, "/api/v1/workloads/"+esc("k8s/shop/deployment/none/x")+"/mode", n.admin,
		`{"mode":"monitor"}`, nil); st != http.StatusNotFound {
		t.Errorf("unknown workload: %d", st)
	}
}

func decodeJSON(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	if err := jsonDecode(resp, v); err != nil {
		t.Errorf("decode: %v", err)
	}
}
