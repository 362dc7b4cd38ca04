package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/api"
	"github.com/vigilsec/vigil/internal/api/apitest"
)

func findNode(m *api.Map, id string) *api.MapNode {
	for i := range m.Nodes {
		if m.Nodes[i].ID == id {
			return &m.Nodes[i]
		}
	}
	return nil
}

func edgesOf(m *api.Map) []string {
	var out []string
	for _, e := range m.Edges {
		out = append(out, fmt.Sprintf("%s -> %s %d/%s %s x%d %s", e.Source, e.Target, e.Port, e.Proto, e.Direction, e.Count, e.Baseline))
	}
	return out
}

// TestMapClientServer: the client/server pair is two nodes and one edge
// seen from both ends, in their namespace's group; the server's quiet
// port shows.
func TestMapClientServer(t *testing.T) {
	n := newNode(t, nil)
	p := n.env.Basic()
	var m api.Map
	n.get("/api/v1/map", &m)
	want := []string{p.Client.ID + " -> " + p.Server.ID + " 8080/tcp both x3 known"}
	if got := edgesOf(&m); !slices.Equal(got, want) {
		t.Errorf("edges:\n got %q\nwant %q", got, want)
	}
	c, s := findNode(&m, p.Client.ID), findNode(&m, p.Server.ID)
	if c == nil || s == nil {
		t.Fatalf("nodes %+v", m.Nodes)
	}
	if c.Group != "ns:shop" || c.Label != "frontend/web" || c.Mode != "monitor" || s.Mode != "learn" {
		t.Errorf("client %+v server %+v", c, s)
	}
	var ports []string
	for _, l := range s.Listening {
		ports = append(ports, fmt.Sprintf("%d/%s %s exposed=%v", l.Port, l.Proto, l.Process, l.Exposed))
	}
	if !slices.Equal(ports, []string{"8080/tcp api exposed=true", "9090/tcp api exposed=true"}) {
		t.Errorf("server listening %q", ports)
	}
	if len(m.Groups) != 1 || m.Groups[0].ID != "ns:shop" {
		t.Errorf("groups %+v", m.Groups)
	}
}

// TestMapDemo: named outside endpoints, the host's kubelet, a flow
// outside the client's baseline flagged with its drift alert, and the
// filters.
func TestMapDemo(t *testing.T) {
	n := newNode(t, nil)
	p := n.env.Demo()
	var m api.Map
	n.get("/api/v1/map", &m)
	got := edgesOf(&m)
	for _, w := range []string{
		p.Client.ID + " -> dns:payments.example.com 443/tcp outbound x1 known",
		p.Client.ID + " -> svc:kube-system/kube-dns 53/udp outbound x1 known",
		p.Client.ID + " -> net:203.0.113.0/24 4444/tcp outbound x1 outside",
		"host/unit/kubelet.service -> " + p.Server.ID + " 8080/tcp both x1 known",
	} {
		if !slices.Contains(got, w) {
			t.Errorf("missing edge %q in\n%s", w, strings.Join(got, "\n"))
		}
	}
	for _, e := range m.Edges {
		if e.Target == "net:203.0.113.0/24" && e.Alerts != 1 {
			t.Errorf("drift edge has %d alerts, want 1", e.Alerts)
		}
	}
	if c := findNode(&m, p.Client.ID); c == nil || c.Alerts != 1 {
		t.Errorf("client node %+v", c)
	}
	if k := findNode(&m, "host/unit/kubelet.service"); k == nil || k.Group != "host" || len(k.Listening) != 1 || k.Listening[0].Exposed {
		t.Errorf("kubelet node %+v", k)
	}
	var groups []string
	for _, g := range m.Groups {
		groups = append(groups, g.ID)
	}
	if !slices.Equal(groups, []string{"external", "host", "ns:kube-system", "ns:shop"}) {
		t.Errorf("groups %q", groups)
	}

	// Filters: a namespace keeps its nodes and their peers.
	var ks api.Map
	n.get("/api/v1/map?namespace=kube-system", &ks)
	if len(ks.Nodes) != 1 || len(ks.Edges) != 0 {
		t.Errorf("kube-system: %d nodes %d edges", len(ks.Nodes), len(ks.Edges))
	}
	var wl api.Map
	n.get("/api/v1/map?external=false&workload="+esc(p.Server.ID), &wl)
	if len(wl.Nodes) != 3 || len(wl.Edges) != 2 {
		t.Errorf("server's neighbours: %d nodes %d edges: %q", len(wl.Nodes), len(wl.Edges), edgesOf(&wl))
	}
	var txt api.Map
	n.get("/api/v1/map?q=payments", &txt)
	if len(txt.Edges) != 1 {
		t.Errorf("q=payments: %q", edgesOf(&txt))
	}
}

// TestMapAtScale: 500 workloads and 10,000 flows fed as events.
func TestMapAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the scale check takes a few seconds")
	}
	n := newNode(t, nil)
	n.env.Synthetic(500, 10000)
	var m api.Map
	n.get("/api/v1/map", &m)
	if m.Stats.Flows != 10000 || len(m.Nodes) < 500 {
		t.Errorf("%d flows held, %d nodes, %d edges", m.Stats.Flows, len(m.Nodes), len(m.Edges))
	}
	_ = apitest.ClientIP
}
