package api

import (
	"cmp"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/internal/baseline"
	"github.com/vigilsec/vigil/internal/flows"
)

// MapNode is a workload, an external endpoint group or an unattributed
// local endpoint.
type MapNode struct {
	ID           string      `json:"id"`
	Kind         string      `json:"kind"` // workload, external, unknown
	Label        string      `json:"label"`
	Name         string      `json:"name"`
	Group        string      `json:"group"`
	WorkloadKind string      `json:"workload_kind,omitempty"`
	Namespace    string      `json:"namespace,omitempty"`
	Mode         string      `json:"mode,omitempty"`
	Scope        string      `json:"scope,omitempty"`
	NameKind     string      `json:"name_kind,omitempty"`
	Network      string      `json:"network,omitempty"`
	Addresses    []string    `json:"addresses,omitempty"`
	Listening    []MapListen `json:"listening"`
	Alerts       int         `json:"alerts"`
}

// MapListen is a listening socket of a workload.
type MapListen struct {
	Port    uint16 `json:"port"`
	Proto   string `json:"proto"`
	Addr    string `json:"addr"`
	Process string `json:"process,omitempty"`
	PID     uint32 `json:"pid"`
	// Exposed is false for a socket on loopback only.
	Exposed bool `json:"exposed"`
}

// MapEdge is the flows from one endpoint to another on one port.
type MapEdge struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	Target string `json:"target"`
	Port   uint16 `json:"port"`
	Proto  string `json:"proto"`
	// Direction is outbound (seen at the source), inbound (seen at the
	// target) or both.
	Direction string    `json:"direction"`
	Count     uint64    `json:"count"`
	Failed    uint64    `json:"failed"`
	First     time.Time `json:"first"`
	Last      time.Time `json:"last"`
	Alerts    int       `json:"alerts"`
	// Baseline is "known", "outside" (a baseline out of learn mode does
	// not hold it), "learning" (not yet in a learning baseline) or ""
	// (no baseline).
	Baseline string      `json:"baseline,omitempty"`
	Scan     *flows.Scan `json:"scan,omitempty"`
	// SourceAddrs are the addresses the source was seen using (by the
	// target's accepts), TargetAddrs those the source reached (by its
	// connects).
	SourceAddrs []string `json:"source_addrs"`
	TargetAddrs []string `json:"target_addrs"`
}

// Map is the body of /api/v1/map.
type Map struct {
	Generated time.Time   `json:"generated"`
	Groups    []MapGroup  `json:"groups"`
	Nodes     []MapNode   `json:"nodes"`
	Edges     []MapEdge   `json:"edges"`
	Stats     flows.Stats `json:"stats"`
}

type edgeKey struct {
	src, dst string
	port     uint16
	proto    flows.Proto
}

// mapFilter is what /api/v1/map was asked for.
type mapFilter struct {
	namespaces, workloads []string
	text                  string
	since                 time.Time
	external              bool
}

func parseMapFilter(raw string) (mapFilter, error) {
	p, err := parseParams(raw, "namespace", "workload", "q", "since", "external")
	if err != nil {
		return mapFilter{}, err
	}
	f := mapFilter{namespaces: p.list("namespace")}
	if f.workloads, err = p.workloadIDs("workload"); err != nil {
		return f, err
	}
	t, err := p.one("q")
	if err != nil {
		return f, err
	}
	f.text = strings.ToLower(strings.TrimSpace(t))
	if f.since, err = p.time("since"); err != nil {
		return f, err
	}
	f.external, err = p.boolean("external", true)
	return f, err
}

func (s *Server) mapView(r *http.Request, _ principal) (any, error) {
	f, err := parseMapFilter(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	m := &Map{Generated: s.opts.Now().UTC(), Groups: []MapGroup{}, Nodes: []MapNode{}, Edges: []MapEdge{}}
	if s.src.Flows == nil {
		return m, nil
	}
	snap := s.src.Flows.Snapshot()
	m.Stats = s.src.Flows.Stats()
	return s.buildMap(m, snap, &f), nil
}

// buildMap merges the two ends' views of each flow into one edge, marks
// alerts and baselines, and keeps what the filter asks for.
func (s *Server) buildMap(m *Map, snap *flows.Snapshot, f *mapFilter) *Map {
	nodes := map[string]*MapNode{}
	node := func(e *flows.Endpoint) *MapNode {
		n := nodes[e.ID]
		if n == nil {
			v := endpointNode(e)
			n = &v
			nodes[e.ID] = n
		}
		return n
	}
	for _, l := range snap.Listeners {
		n := node(&flows.Endpoint{Kind: flows.KindWorkload, ID: l.Workload.ID, Workload: l.Workload})
		n.Listening = append(n.Listening, MapListen{Port: l.Addr.Port(), Proto: l.Proto.String(), Addr: l.Addr.Addr().String(),
			Process: l.Process, PID: l.PID, Exposed: !l.Addr.Addr().IsLoopback()})
	}
	idx := s.alertIndex()
	edges := map[edgeKey]*MapEdge{}
	for i := range snap.Flows {
		fl := &snap.Flows[i]
		if !f.since.IsZero() && fl.Last.Before(f.since) {
			continue
		}
		node(&fl.Src)
		node(&fl.Dst)
		k := edgeKey{fl.Src.ID, fl.Dst.ID, fl.Port, fl.Proto}
		e := edges[k]
		if e == nil {
			e = &MapEdge{ID: fl.Src.ID + "|" + fl.Dst.ID + "|" + strconv.Itoa(int(fl.Port)) + "/" + fl.Proto.String(),
				Source: fl.Src.ID, Target: fl.Dst.ID, Port: fl.Port, Proto: fl.Proto.String(),
				Direction: fl.Dir.String(), First: fl.First, Last: fl.Last, Scan: fl.Scan, SourceAddrs: []string{}, TargetAddrs: []string{}}
			edges[k] = e
		} else {
			e.Direction = "both"
			e.First = minTime(e.First, fl.First)
			e.Last = maxTime(e.Last, fl.Last)
		}
		e.Count = max(e.Count, fl.Count)
		e.Failed = max(e.Failed, fl.Failed)
		addrs := &e.TargetAddrs
		if fl.Dir == flows.Inbound {
			addrs = &e.SourceAddrs
		}
		for _, p := range fl.Peers {
			*addrs = append(*addrs, p.String())
		}
		e.Alerts += idx.edgeAlerts(fl)
		e.Baseline = mergeBaseline(e.Baseline, s.baselineState(fl))
	}
	for id, n := range nodes {
		n.Alerts = idx.byWorkload[id]
		for _, a := range snap.Addresses[id] {
			n.Addresses = append(n.Addresses, a.String())
		}
		if n.Kind == "workload" && s.src.Baselines != nil {
			if mode, ok := s.src.Baselines.Mode(id); ok {
				n.Mode = mode.String()
			}
		}
	}
	keep, matched := f.selectNodes(nodes, edges)
	groups := map[string]MapGroup{}
	m.Nodes = slices.Grow(m.Nodes, len(keep))
	m.Edges = slices.Grow(m.Edges, len(edges))
	for id := range keep {
		n := nodes[id]
		m.Nodes = append(m.Nodes, *n)
		if _, ok := groups[n.Group]; !ok {
			groups[n.Group] = groupFor(n)
		}
	}
	for _, e := range edges {
		if keep[e.Source] && keep[e.Target] && (matched[e.Source] || matched[e.Target]) {
			slices.Sort(e.SourceAddrs)
			slices.Sort(e.TargetAddrs)
			m.Edges = append(m.Edges, *e)
		}
	}
	for _, g := range groups {
		m.Groups = append(m.Groups, g)
	}
	slices.SortFunc(m.Groups, func(a, b MapGroup) int { return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID)) })
	slices.SortFunc(m.Nodes, func(a, b MapNode) int { return cmp.Or(cmp.Compare(a.Group, b.Group), cmp.Compare(a.ID, b.ID)) })
	slices.SortFunc(m.Edges, func(a, b MapEdge) int { return cmp.Compare(a.ID, b.ID) })
	return m
}

func groupFor(n *MapNode) MapGroup {
	switch {
	case n.Group == externalGroup.ID:
		return externalGroup
	case strings.HasPrefix(n.Group, "ns:"):
		return MapGroup{ID: n.Group, Kind: groupNamespace, Name: strings.TrimPrefix(n.Group, "ns:")}
	case n.Group == "containers":
		return MapGroup{ID: n.Group, Kind: groupContainers, Name: "containers"}
	}
	return MapGroup{ID: "host", Kind: groupHost, Name: "host"}
}

// selectNodes returns the ids of the nodes the filter keeps: those
// matching it, and their neighbours, so that every edge of a matching
// node has both ends. Edges between two neighbours are not kept.
func (f *mapFilter) selectNodes(nodes map[string]*MapNode, edges map[edgeKey]*MapEdge) (keep, matched map[string]bool) {
	match := func(n *MapNode) bool {
		if !f.external && n.Kind != "workload" {
			return false
		}
		if len(f.namespaces) > 0 && !slices.Contains(f.namespaces, n.Namespace) {
			return false
		}
		if len(f.workloads) > 0 && !slices.Contains(f.workloads, n.ID) {
			return false
		}
		return f.text == "" || strings.Contains(strings.ToLower(n.ID+" "+n.Label+" "+n.Name), f.text)
	}
	keep, matched = map[string]bool{}, map[string]bool{}
	for id, n := range nodes {
		if match(n) {
			keep[id], matched[id] = true, true
		}
	}
	if len(f.namespaces)+len(f.workloads) == 0 && f.text == "" {
		return keep, matched
	}
	for _, e := range edges {
		if (matched[e.Source] || matched[e.Target]) &&
			(f.external || (nodes[e.Source].Kind == "workload" && nodes[e.Target].Kind == "workload")) {
			keep[e.Source], keep[e.Target] = true, true
		}
	}
	return keep, matched
}

// baselineState says how a flow stands against the baseline of the end
// that observed it.
func (s *Server) baselineState(f *flows.Flow) string {
	if s.src.Baselines == nil || f.Port == 0 {
		return ""
	}
	id, inbound := f.Src.ID, false
	if f.Dir == flows.Inbound {
		id, inbound = f.Dst.ID, true
	}
	proto := baseline.ProtoTCP
	if f.Proto == flows.UDP {
		proto = baseline.ProtoUDP
	}
	state := ""
	for _, p := range f.Peers {
		known, mode, ok := s.src.Baselines.KnownPeer(id, inbound, p, f.Port, proto)
		switch {
		case !ok:
			return ""
		case known:
			state = mergeBaseline(state, "known")
		case mode == baseline.Learn:
			state = mergeBaseline(state, "learning")
		default:
			state = mergeBaseline(state, "outside")
		}
	}
	return state
}

var baselineRank = map[string]int{"": 0, "known": 1, "learning": 2, "outside": 3}

// mergeBaseline keeps the more notable state.
func mergeBaseline(a, b string) string {
	if baselineRank[b] > baselineRank[a] {
		return b
	}
	return a
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// alertIndex is the held alerts by workload, for the map.
type alertIndex struct {
	byWorkload map[string]int
	peers      map[string][]netip.AddrPort
}

func (s *Server) alertIndex() *alertIndex {
	idx := &alertIndex{byWorkload: map[string]int{}, peers: map[string][]netip.AddrPort{}}
	s.alerts.newestFirst(func(a *stored) bool {
		if a.Workload != "" {
			idx.byWorkload[a.Workload]++
			if a.peer.IsValid() {
				idx.peers[a.Workload] = append(idx.peers[a.Workload], netip.AddrPortFrom(a.peer, a.port))
			}
		}
		return true
	})
	return idx
}

// edgeAlerts counts the alerts of the flow's observing workload about
// one of its peers: on the flow's port for the source's alerts, on any
// (the client's) port for the destination's.
func (idx *alertIndex) edgeAlerts(f *flows.Flow) int {
	id := f.Src.ID
	if f.Dir == flows.Inbound {
		id = f.Dst.ID
	}
	n := 0
	for _, ap := range idx.peers[id] {
		if slices.Contains(f.Peers, ap.Addr()) && (f.Dir == flows.Inbound || ap.Port() == f.Port || f.Port == 0) {
			n++
		}
	}
	return n
}
