package api

import (
	"cmp"
	"net/http"
	"slices"
	"strings"

	"github.com/vigilsec/vigil/internal/baseline"
	"github.com/vigilsec/vigil/internal/flows"
	"github.com/vigilsec/vigil/internal/workload"
)

// WorkloadSummary is one line of /api/v1/workloads.
type WorkloadSummary struct {
	WorkloadRef
	Mode            string `json:"mode,omitempty"`
	BaselineEntries int    `json:"baseline_entries"`
	FlowsOut        int    `json:"flows_out"`
	FlowsIn         int    `json:"flows_in"`
	Listening       int    `json:"listening"`
	Alerts          int    `json:"alerts"`
	Vulnerabilities int    `json:"vulnerabilities"`
}

// workloadIndex gathers every workload any source knows.
type workloadIndex struct {
	byID  map[string]*WorkloadSummary
	snap  *flows.Snapshot
	bases map[string]baseline.Summary
}

func (s *Server) indexWorkloads() *workloadIndex {
	ix := &workloadIndex{byID: map[string]*WorkloadSummary{}, bases: map[string]baseline.Summary{}}
	get := func(id string, w *workload.Workload) *WorkloadSummary {
		ws := ix.byID[id]
		if ws == nil {
			if w == nil {
				var err error
				if w, err = workload.Parse(id); err != nil {
					return nil
				}
			}
			ws = &WorkloadSummary{WorkloadRef: refOf(w)}
			ix.byID[id] = ws
		}
		return ws
	}
	if s.src.Flows != nil {
		ix.snap = s.src.Flows.Snapshot()
		for id, w := range ix.snap.Workloads {
			get(id, w)
		}
		seen := map[edgeKey]bool{}
		for _, f := range ix.snap.Flows {
			// Both ends' views of a flow are one edge.
			k := edgeKey{f.Src.ID, f.Dst.ID, f.Port, f.Proto}
			if seen[k] {
				continue
			}
			seen[k] = true
			if f.Src.Kind == flows.KindWorkload {
				get(f.Src.ID, f.Src.Workload).FlowsOut++
			}
			if f.Dst.Kind == flows.KindWorkload {
				get(f.Dst.ID, f.Dst.Workload).FlowsIn++
			}
		}
		for _, l := range ix.snap.Listeners {
			get(l.Workload.ID, l.Workload).Listening++
		}
	}
	if s.src.Baselines != nil {
		for _, b := range s.src.Baselines.Workloads() {
			if ws := get(b.ID, nil); ws != nil {
				ws.Mode, ws.BaselineEntries = b.Mode, b.Total()
				if ws.Name == "" || ws.Name == ws.ID {
					ws.Name = b.Name
				}
				ix.bases[b.ID] = b
			}
		}
	}
	s.alerts.newestFirst(func(a *stored) bool {
		if a.Workload != "" {
			if ws := get(a.Workload, nil); ws != nil {
				ws.Alerts++
			}
		}
		return true
	})
	if s.src.Vulnerabilities != nil {
		for _, v := range s.src.Vulnerabilities.Vulnerabilities() {
			if ws := get(v.Workload, nil); ws != nil {
				ws.Vulnerabilities += len(v.Findings)
			}
		}
	}
	return ix
}

func (s *Server) listWorkloads(r *http.Request, _ principal) (any, error) {
	p, err := parseParams(r.URL.RawQuery, "namespace", "kind", "q")
	if err != nil {
		return nil, err
	}
	nss := p.list("namespace")
	kind, err := p.enum("kind", "", "k8s", "image", "unit", "exe")
	if err != nil {
		return nil, err
	}
	text, err := p.one("q")
	if err != nil {
		return nil, err
	}
	text = strings.ToLower(text)
	out := []WorkloadSummary{}
	for _, ws := range s.indexWorkloads().byID {
		if (len(nss) > 0 && !slices.Contains(nss, ws.Namespace)) || (kind != "" && ws.Kind != kind) ||
			(text != "" && !strings.Contains(strings.ToLower(ws.ID+" "+ws.Name), text)) {
			continue
		}
		out = append(out, *ws)
	}
	slices.SortFunc(out, func(a, b WorkloadSummary) int { return cmp.Or(cmp.Compare(a.Group, b.Group), cmp.Compare(a.ID, b.ID)) })
	return map[string]any{"workloads": out}, nil
}

// WorkloadDetail is the body of /api/v1/workloads/{id}.
type WorkloadDetail struct {
	Workload        WorkloadSummary    `json:"workload"`
	Processes       []Process          `json:"processes"`
	Listening       []MapListen        `json:"listening"`
	Flows           []MapEdge          `json:"flows"`
	Alerts          []*stored          `json:"alerts"`
	Vulnerabilities []Vulnerability    `json:"vulnerabilities"`
	Baseline        *baseline.Document `json:"baseline"`
	// BaselineEntries counts each dimension's entries.
	BaselineEntries map[string]int `json:"baseline_entries,omitempty"`
	// Modes are the modes the workload can be put in.
	Modes []string `json:"modes"`
}

// workloadParam validates the {id} path segment.
func workloadParam(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if _, err := workload.Parse(id); err != nil {
		return "", badParam("id", "not a workload id (k8s/..., image/..., host/...; escape each / as %%2F)")
	}
	return id, nil
}

func (s *Server) getWorkload(r *http.Request, _ principal) (any, error) {
	id, err := workloadParam(r)
	if err != nil {
		return nil, err
	}
	if _, err := parseParams(r.URL.RawQuery); err != nil {
		return nil, err
	}
	ix := s.indexWorkloads()
	ws := ix.byID[id]
	if ws == nil {
		return nil, notFound("no workload %s is known", id)
	}
	d := &WorkloadDetail{Workload: *ws, Processes: []Process{}, Listening: []MapListen{}, Flows: []MapEdge{},
		Vulnerabilities: []Vulnerability{}, Modes: []string{"learn", "monitor", "protect"}}
	if s.src.Processes != nil {
		if ps := s.src.Processes.Processes(id); ps != nil {
			d.Processes = ps
		}
	}
	if ix.snap != nil {
		m := s.buildMap(&Map{}, ix.snap, &mapFilter{workloads: []string{id}, external: true})
		for _, n := range m.Nodes {
			if n.ID == id {
				d.Listening = n.Listening
			}
		}
		d.Flows = m.Edges
	}
	q := alertQuery{Workloads: []string{id}, MinPriority: len(priorities), Limit: 100}
	d.Alerts, _ = s.alerts.query(&q)
	d.Vulnerabilities = s.vulnerabilities(vulnFilter{workload: id})
	if b, ok := ix.bases[id]; ok && s.src.Baselines != nil {
		d.BaselineEntries = b.Entries
		if doc, err := s.src.Baselines.Document(id); err == nil {
			d.Baseline = doc
		}
	}
	return d, nil
}
