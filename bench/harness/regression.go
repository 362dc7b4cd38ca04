package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// summary is latest.json: what the next run's regression check reads.
type summary struct {
	Date     string                                  `json:"date"`
	Reps     int                                     `json:"reps"`
	Quick    bool                                    `json:"quick"`
	Slowdown map[string]map[string]spread            `json:"slowdown"`
	CPUSlow  map[string]map[string]spread            `json:"cpu_slowdown"`
	NsPerEvt map[string]map[string]spread            `json:"ns_per_event"`
	Lost     map[string]float64                      `json:"lost_by_ground_truth"`
	Ramp     struct{ BestCleanEventsPerSec float64 } `json:"ramp"`
	GoBench  map[string]float64                      `json:"go_bench_ns_per_op"`
}

func (r *report) summary() summary {
	s := summary{Date: r.Started.UTC().Format(time.RFC3339), Reps: r.Reps, Quick: r.Quick,
		Slowdown: map[string]map[string]spread{}, CPUSlow: map[string]map[string]spread{}, NsPerEvt: map[string]map[string]spread{}, Lost: map[string]float64{},
		GoBench: map[string]float64{}}
	for _, c := range configOrder {
		s.Slowdown[c] = map[string]spread{}
		s.CPUSlow[c] = map[string]spread{}
		for _, w := range r.workloads() {
			if sp := r.perRep(c, w, slowdown); sp.ok() {
				s.Slowdown[c][w] = sp
			}
			if sp := r.perRep(c, w, cpuSlowdown); sp.ok() {
				s.CPUSlow[c][w] = sp
			}
			if strings.HasPrefix(c, "vigil") {
				if s.NsPerEvt[c] == nil {
					s.NsPerEvt[c] = map[string]spread{}
				}
				if sp := r.perRep(c, w, cpuPerEvent); sp.ok() {
					s.NsPerEvt[c][w] = sp
				}
			}
		}
	}
	for _, t := range r.truthRows() {
		s.Lost[t.Config+"/"+t.Workload+"/"+t.Kind] = t.lost()
	}
	if r.Ramp.BestClean >= 0 {
		st := r.Ramp.Steps[r.Ramp.BestClean]
		s.Ramp.BestCleanEventsPerSec = st.eventRate()
	}
	for _, g := range r.GoBench {
		s.GoBench[strings.TrimPrefix(g.Package, "github.com/vigilsec/vigil/")+"."+g.Name] = g.NsPerOp
	}
	return s
}

// regression is one compared figure.
type regression struct {
	Config, Workload, Metric string
	Prev, Now                float64
	Verdict                  string
}

// compare checks Vigil's slowdown and CPU per event against prev. A figure
// is worse when it grew by more than the larger half-range of the two runs.
func compare(prev, cur summary) []regression {
	var out []regression
	check := func(metric string, p, c map[string]map[string]spread) {
		for _, cfg := range []string{"vigil-default", "vigil-minimal"} {
			ws := make([]string, 0, len(c[cfg]))
			for w := range c[cfg] {
				ws = append(ws, w)
			}
			slices.Sort(ws)
			for _, w := range ws {
				now := c[cfg][w]
				before, ok := p[cfg][w]
				if !ok || !before.ok() {
					continue
				}
				noise := max(before.halfRange(), now.halfRange())
				v := "same (within spread)"
				switch d := now.Median - before.Median; {
				case d > noise:
					v = "**worse**"
				case d < -noise:
					v = "better"
				}
				out = append(out, regression{cfg, w, metric, before.Median, now.Median, v})
			}
		}
	}
	check("slowdown", prev.Slowdown, cur.Slowdown)
	check("CPU per op", prev.CPUSlow, cur.CPUSlow)
	check("ns per event", prev.NsPerEvt, cur.NsPerEvt)
	return out
}

// write saves the report as <date>.md and latest.json in dir, comparing
// with the latest.json already there, and prints the comparison.
func (r *report) write(dir string, logf func(string, ...any)) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// A quick run compares with, and replaces, only the last quick run.
	latest := filepath.Join(dir, "latest.json")
	if r.Quick {
		latest = filepath.Join(dir, "latest-quick.json")
	}
	cur := r.summary()
	var reg []regression
	prevDate := ""
	if b, err := os.ReadFile(latest); err == nil {
		var prev summary
		switch err := json.Unmarshal(b, &prev); {
		case err != nil:
			logf("regression check skipped: %s: %v", latest, err)
		case prev.Quick != cur.Quick:
			logf("regression check skipped: %s is from a run of another size (quick=%v)", latest, prev.Quick)
		default:
			reg, prevDate = compare(prev, cur), prev.Date
		}
	}
	md := r.markdown(reg, prevDate)
	name := filepath.Join(dir, r.Started.UTC().Format("2006-01-02T1504")+".md")
	if err := os.WriteFile(name, []byte(md), 0o644); err != nil {
		return err
	}
	b, err := json.MarshalIndent(cur, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(latest, append(b, '\n'), 0o644); err != nil {
		return err
	}
	if prevDate != "" {
		fmt.Printf("regression check against %s:\n", prevDate)
		for _, g := range reg {
			fmt.Printf("  %-14s %-16s %-13s %8.2f -> %8.2f  %s\n", g.Config, g.Workload, g.Metric, g.Prev, g.Now, strings.Trim(g.Verdict, "*"))
		}
	}
	logf("report: %s", name)
	fmt.Println(name)
	return nil
}
