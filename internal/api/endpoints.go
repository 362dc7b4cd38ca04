package api

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/internal/baseline"
	"github.com/vigilsec/vigil/internal/netpolicy"
	"github.com/vigilsec/vigil/internal/vulnrank"
	"github.com/vigilsec/vigil/internal/workload"
)

// AlertPage is the body of /api/v1/alerts.
type AlertPage struct {
	Alerts []*stored `json:"alerts"`
	// NextCursor fetches the next (older) page; "" on the last one.
	NextCursor string `json:"next_cursor"`
}

func (s *Server) listAlerts(r *http.Request, _ principal) (any, error) {
	q, err := parseAlertQuery(r.URL.RawQuery, false)
	if err != nil {
		return nil, err
	}
	page := &AlertPage{}
	page.Alerts, page.NextCursor = s.alerts.query(&q)
	return page, nil
}

func (s *Server) getAlert(r *http.Request, _ principal) (any, error) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		return nil, badParam("id", "want an alert id")
	}
	if _, err := parseParams(r.URL.RawQuery); err != nil {
		return nil, err
	}
	a := s.alerts.get(id)
	if a == nil {
		return nil, notFound("alert %d is not held (any more)", id)
	}
	return a, nil
}

// Vulnerability is one ranked finding of one workload.
type Vulnerability struct {
	Workload string `json:"workload"`
	vulnrank.Ranked
}

type vulnFilter struct {
	workload string
	severity []string
	use      []string
	text     string
}

var severities = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "NONE", "UNKNOWN"}
var uses = []string{vulnrank.UseExecuted, vulnrank.UseLoaded, vulnrank.UseUnused, vulnrank.UseNotRunning}

// vulnerabilities returns the matching findings, highest score first.
func (s *Server) vulnerabilities(f vulnFilter) []Vulnerability {
	out := []Vulnerability{}
	if s.src.Vulnerabilities == nil {
		return out
	}
	for _, wf := range s.src.Vulnerabilities.Vulnerabilities() {
		if f.workload != "" && wf.Workload != f.workload {
			continue
		}
		for _, r := range wf.Findings {
			if len(f.severity) > 0 && !slices.Contains(f.severity, r.Finding.Severity) {
				continue
			}
			if len(f.use) > 0 && !slices.Contains(f.use, r.Use) {
				continue
			}
			if f.text != "" && !strings.Contains(strings.ToLower(strings.Join(r.Finding.IDs, " ")+" "+r.Package.Name+" "+
				r.Finding.Summary+" "+wf.Workload), f.text) {
				continue
			}
			out = append(out, Vulnerability{Workload: wf.Workload, Ranked: r})
		}
	}
	slices.SortStableFunc(out, func(a, b Vulnerability) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Workload, b.Workload))
	})
	return out
}

func (s *Server) listVulnerabilities(r *http.Request, _ principal) (any, error) {
	p, err := parseParams(r.URL.RawQuery, "workload", "severity", "use", "q", "limit", "cursor")
	if err != nil {
		return nil, err
	}
	var f vulnFilter
	if f.workload, err = p.one("workload"); err != nil {
		return nil, err
	}
	if f.workload != "" {
		if _, err := workload.Parse(f.workload); err != nil {
			return nil, badParam("workload", "not a workload id")
		}
	}
	for _, sev := range p.list("severity") {
		sev = strings.ToUpper(sev)
		if !slices.Contains(severities, sev) {
			return nil, badParam("severity", "%q: want %s", sev, strings.Join(severities, ", "))
		}
		f.severity = append(f.severity, sev)
	}
	for _, u := range p.list("use") {
		if !slices.Contains(uses, u) {
			return nil, badParam("use", "%q: want %s", u, strings.Join(uses, ", "))
		}
		f.use = append(f.use, u)
	}
	if f.text, err = p.one("q"); err != nil {
		return nil, err
	}
	f.text = strings.ToLower(strings.TrimSpace(f.text))
	limit, err := p.intIn("limit", 100, 1, 1000)
	if err != nil {
		return nil, err
	}
	offset, err := p.intIn("cursor", 0, 0, 1<<30)
	if err != nil {
		return nil, err
	}
	all := s.vulnerabilities(f)
	page := map[string]any{"vulnerabilities": []Vulnerability{}, "total": len(all), "next_cursor": ""}
	if offset < len(all) {
		end := min(offset+limit, len(all))
		page["vulnerabilities"] = all[offset:end]
		if end < len(all) {
			page["next_cursor"] = strconv.Itoa(end)
		}
	}
	return page, nil
}

// networkPolicies generates NetworkPolicies from the map: YAML by
// default, or JSON with the notes.
func (s *Server) networkPolicies(w http.ResponseWriter, r *http.Request, _ principal) error {
	p, err := parseParams(r.URL.RawQuery, "namespace", "workload", "format")
	if err != nil {
		return err
	}
	var opts netpolicy.Options
	if opts.Namespace, err = p.one("namespace"); err != nil {
		return err
	}
	ids, err := p.workloadIDs("workload")
	if err != nil {
		return err
	}
	if len(ids) > 1 {
		return badParam("workload", "given more than once")
	}
	if len(ids) == 1 {
		opts.Workload = ids[0]
	}
	format, err := p.enum("format", "yaml", "yaml", "json")
	if err != nil {
		return err
	}
	if s.src.Flows == nil {
		return errorf(http.StatusConflict, "", "the connection map is not enabled")
	}
	snap := s.src.Flows.Snapshot()
	opts.Addresses = snap.Addresses
	if s.src.Labels != nil {
		opts.Labels = s.src.Labels.Labels
	}
	if b := s.src.Baselines; b != nil {
		opts.Baseline = func(id string) *baseline.Document {
			d, err := b.Document(id)
			if err != nil {
				return nil
			}
			return d
		}
	}
	res := netpolicy.Generate(snap, opts)
	if format == "json" {
		notes := res.Notes
		if notes == nil {
			notes = []netpolicy.Note{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"policies": res.Policies, "notes": notes})
		return nil
	}
	data, err := netpolicy.YAML(res.Policies)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("# Generated by Vigil from the observed connections.\n")
	for _, n := range res.Notes {
		b.WriteString("# note: " + n.Workload + ": " + strings.ReplaceAll(n.Message, "\n", " ") + "\n")
	}
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(b.String()))
	w.Write(data)
	return nil
}
