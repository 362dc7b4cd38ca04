package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/vigilsec/vigil/internal/api"
	"github.com/vigilsec/vigil/internal/api/apitest"
)

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }

// TestErrorsAreJSON: unknown endpoints, wrong methods and foreign Host
// names get JSON errors with the right status.
func TestErrorsAreJSON(t *testing.T) {
	n := newNode(t, nil)
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/api/v1/nothing", http.StatusNotFound},
		{http.MethodGet, "/api/v2/map", http.StatusNotFound},
		{http.MethodDelete, "/api/v1/map", http.StatusMethodNotAllowed},
		{http.MethodGet, "/api/v1/workloads/" + esc("k8s/a/deployment/b/c") + "/mode", http.StatusMethodNotAllowed},
		{http.MethodGet, "/api/v1/alerts/abc", http.StatusBadRequest},
		{http.MethodGet, "/api/v1/overview?window=2h", http.StatusBadRequest},
		{http.MethodGet, "/api/v1/enforcement?x=1", http.StatusBadRequest},
		{http.MethodGet, "/api/v1/vulnerabilities?severity=awful", http.StatusBadRequest},
		{http.MethodGet, "/api/v1/networkpolicies?format=xml", http.StatusBadRequest},
	} {
		st, body := n.do(c.method, c.path, "", "", nil)
		if st != c.status {
			t.Errorf("%s %s: %d %s", c.method, c.path, st, body)
			continue
		}
		apiError(t, body)
	}
	req, _ := http.NewRequest(http.MethodGet, n.ts.URL+"/api/v1/map", nil)
	req.Host = "attacker.example:8080"
	resp, err := n.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("a rebound Host name: %d", resp.StatusCode)
	}
}

// TestRequireAuthOnLoopback: with require_auth, loopback needs a token
// too; whoami tells the console who it is.
func TestRequireAuthOnLoopback(t *testing.T) {
	n := newNode(t, func(c *api.Config) { c.RequireAuth = true })
	if st, _ := n.do(http.MethodGet, "/api/v1/map", "", "", nil); st != http.StatusUnauthorized {
		t.Errorf("no token: %d", st)
	}
	var who map[string]any
	if st, body := n.do(http.MethodGet, "/api/v1/whoami", n.read, "", &who); st != http.StatusOK || who["role"] != "read-only" {
		t.Errorf("whoami: %d %s", st, body)
	}
}

func TestOverview(t *testing.T) {
	n := newNode(t, nil)
	n.env.Demo()
	n.srv.Emit(apitest.Alert("Read sensitive file", "Critical", "cat /etc/shadow"))
	n.srv.Emit(apitest.Alert("Read sensitive file", "Critical", "cat /etc/shadow again"))
	var o api.Overview
	n.get("/api/v1/overview?window=15m", &o)
	if len(o.Series) < 15 || o.BucketSeconds != 60 || o.Totals["Critical"] != 2 || o.Totals["Warning"] != 1 {
		t.Errorf("series %d buckets of %ds, totals %v", len(o.Series), o.BucketSeconds, o.Totals)
	}
	if len(o.TopRules) != 2 || o.TopRules[0].Name != "Read sensitive file" || o.TopRules[0].Count != 2 || !o.TopComplete {
		t.Errorf("top rules %+v complete=%v", o.TopRules, o.TopComplete)
	}
	if o.Events == nil || o.Events.Events == 0 || o.Enforcement == nil || o.Enforcement.RulesEnforce != 1 ||
		o.Enforcement.Modes["monitor"] != 1 || o.Flows == nil || o.Flows.Listeners != 5 {
		t.Errorf("counters %+v enforcement %+v flows %+v", o.Events, o.Enforcement, o.Flows)
	}
}

func TestVulnerabilities(t *testing.T) {
	n := newNode(t, nil)
	n.env.Demo()
	var page struct {
		Vulnerabilities []api.Vulnerability `json:"vulnerabilities"`
		Total           int                 `json:"total"`
		NextCursor      string              `json:"next_cursor"`
	}
	n.get("/api/v1/vulnerabilities", &page)
	if page.Total != 2 || page.Vulnerabilities[0].Score < page.Vulnerabilities[1].Score {
		t.Errorf("%+v", page)
	}
	n.get("/api/v1/vulnerabilities?severity=critical&use=loaded", &page)
	if page.Total != 1 || !strings.Contains(page.Vulnerabilities[0].Reasons[1], "listens") {
		t.Errorf("filtered: %+v", page)
	}
	n.get("/api/v1/vulnerabilities?limit=1", &page)
	if len(page.Vulnerabilities) != 1 || page.NextCursor != "1" {
		t.Errorf("page: %+v", page)
	}
}

// TestNetworkPoliciesEndpoint: the map's policies as YAML for kubectl,
// or as JSON with the notes.
func TestNetworkPoliciesEndpoint(t *testing.T) {
	n := newNode(t, nil)
	p := n.env.Basic()
	st, body := n.do(http.MethodGet, "/api/v1/networkpolicies?namespace=shop", "", "", nil)
	if st != http.StatusOK || !strings.Contains(body, "name: vigil-deployment-api") || !strings.Contains(body, "port: 8080") {
		t.Errorf("yaml: %d\n%s", st, body)
	}
	var res struct {
		Policies []networkingv1.NetworkPolicy `json:"policies"`
	}
	n.get("/api/v1/networkpolicies?format=json&workload="+esc(p.Client.ID), &res)
	if len(res.Policies) != 1 || res.Policies[0].Name != "vigil-deployment-frontend" {
		t.Errorf("json: %+v", res.Policies)
	}
}
