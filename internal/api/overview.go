package api

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/vigilsec/vigil/internal/enforce"
	"github.com/vigilsec/vigil/internal/flows"
)

// rateSampler keeps the agent's counters every sampleEvery for the last
// hour, so the overview can show rates.
type rateSampler struct {
	mu      sync.Mutex
	now     func() time.Time
	samples []rateSample
}

type rateSample struct {
	t time.Time
	s AgentStats
}

const (
	sampleEvery = 10 * time.Second
	samplesKept = 360
)

func newRateSampler(now func() time.Time) *rateSampler { return &rateSampler{now: now} }

func (r *rateSampler) run(ctx context.Context, src Stats) {
	if src == nil {
		return
	}
	r.record(src.AgentStats())
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.record(src.AgentStats())
		}
	}
}

func (r *rateSampler) record(s AgentStats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples = append(r.samples, rateSample{r.now(), s})
	if len(r.samples) > samplesKept {
		r.samples = slices.Delete(r.samples, 0, len(r.samples)-samplesKept)
	}
}

// RatePoint is the event and drop rates between two samples.
type RatePoint struct {
	Time            time.Time `json:"time"`
	EventsPerSecond float64   `json:"events_per_second"`
	DropsPerSecond  float64   `json:"drops_per_second"`
}

func (r *rateSampler) series() []RatePoint {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []RatePoint{}
	for i := 1; i < len(r.samples); i++ {
		a, b := r.samples[i-1], r.samples[i]
		dt := b.t.Sub(a.t).Seconds()
		if dt <= 0 {
			continue
		}
		drops := func(s AgentStats) uint64 { return s.KernelDrops + s.PipelineDrops }
		out = append(out, RatePoint{Time: b.t, EventsPerSecond: float64(b.s.Events-a.s.Events) / dt,
			DropsPerSecond: float64(drops(b.s)-drops(a.s)) / dt})
	}
	return out
}

// windows are the overview's time ranges and their bucket sizes in
// minutes (about 60 points each).
var windows = map[string]struct {
	minutes, bucket int
}{"15m": {15, 1}, "1h": {60, 1}, "6h": {360, 6}, "24h": {1440, 24}}

// Count is a name and how often it occurred.
type Count struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// Bucket is the alert counts of one time bucket, indexed like
// Overview.Priorities.
type Bucket struct {
	Time   time.Time `json:"time"`
	Counts []uint32  `json:"counts"`
}

// Overview is the body of /api/v1/overview.
type Overview struct {
	Window        string            `json:"window"`
	BucketSeconds int               `json:"bucket_seconds"`
	Priorities    []string          `json:"priorities"`
	Series        []Bucket          `json:"series"`
	Totals        map[string]uint64 `json:"totals"`
	AlertsHeld    int               `json:"alerts_held"`
	AlertsTotal   uint64            `json:"alerts_total"`
	TopRules      []Count           `json:"top_rules"`
	TopWorkloads  []Count           `json:"top_workloads"`
	// TopComplete is false when the ring no longer holds every alert of
	// the window, so the top lists count the recent part only.
	TopComplete bool             `json:"top_complete"`
	Events      *AgentStats      `json:"counters,omitempty"`
	Rates       []RatePoint      `json:"rates"`
	Enforcement *EnforcementInfo `json:"enforcement,omitempty"`
	Flows       *flows.Stats     `json:"flows,omitempty"`
}

func (s *Server) overview(r *http.Request, _ principal) (any, error) {
	p, err := parseParams(r.URL.RawQuery, "window")
	if err != nil {
		return nil, err
	}
	wname, err := p.enum("window", "1h", "15m", "1h", "6h", "24h")
	if err != nil {
		return nil, err
	}
	win := windows[wname]
	now := s.opts.Now()
	o := &Overview{Window: wname, BucketSeconds: win.bucket * 60, Priorities: priorities, Totals: map[string]uint64{},
		TopRules: []Count{}, TopWorkloads: []Count{}, Rates: s.rates.series()}
	nowMin := now.Unix() / 60
	first := nowMin - int64(win.minutes) + 1
	first -= first % int64(win.bucket)
	st := s.alerts
	st.mu.Lock()
	for b := first; b <= nowMin; b += int64(win.bucket) {
		bk := Bucket{Time: time.Unix(b*60, 0).UTC(), Counts: make([]uint32, len(priorities))}
		for m := b; m < b+int64(win.bucket) && m <= nowMin; m++ {
			slot := &st.minutes[m%minutesKept]
			if slot.minute != m {
				continue
			}
			for i, c := range slot.counts {
				bk.Counts[i] += c
				o.Totals[priorities[i]] += uint64(c)
			}
		}
		o.Series = append(o.Series, bk)
	}
	o.AlertsTotal = st.total
	st.mu.Unlock()

	since := time.Unix(first*60, 0)
	rules, wls := map[string]int{}, map[string]int{}
	s.alerts.newestFirst(func(a *stored) bool {
		if a.Alert.Time.Before(since) {
			return false
		}
		o.AlertsHeld++
		rules[a.Alert.Rule]++
		if a.Workload != "" {
			wls[a.Workload]++
		}
		return true
	})
	oldest, dropped := s.alerts.oldest()
	o.TopComplete = !dropped || oldest.Before(since)
	o.TopRules, o.TopWorkloads = top(rules, 10), top(wls, 10)
	if s.src.Stats != nil {
		c := s.src.Stats.AgentStats()
		o.Events = &c
	}
	o.Enforcement = s.enforcementInfo()
	if s.src.Flows != nil {
		fs := s.src.Flows.Stats()
		o.Flows = &fs
	}
	return o, nil
}

func top(m map[string]int, n int) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{k, v})
	}
	slices.SortFunc(out, func(a, b Count) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Name, b.Name)) })
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// EnforcementInfo is the enforcement state: rule actions and kernel
// mechanisms, and how many workloads each baseline mode holds.
type EnforcementInfo struct {
	Status       *enforce.Status `json:"status,omitempty"`
	RulesEnforce int             `json:"rules_enforce"`
	RulesAudit   int             `json:"rules_audit"`
	Mechanisms   []string        `json:"active_mechanisms"`
	Modes        map[string]int  `json:"baseline_modes"`
	Protected    []string        `json:"protected_workloads"`
}

func (s *Server) enforcementInfo() *EnforcementInfo {
	e := &EnforcementInfo{Mechanisms: []string{}, Modes: map[string]int{"learn": 0, "monitor": 0, "protect": 0},
		Protected: []string{}}
	if s.src.Enforcement != nil {
		st := s.src.Enforcement.Enforcement()
		e.Status = &st
		for _, r := range st.Rules {
			if r.Mode == "audit" {
				e.RulesAudit++
			} else {
				e.RulesEnforce++
			}
		}
		for _, m := range st.Mechanisms {
			if m.Active {
				e.Mechanisms = append(e.Mechanisms, m.Name)
			}
		}
	}
	if s.src.Baselines != nil {
		for _, w := range s.src.Baselines.Workloads() {
			e.Modes[w.Mode]++
			if w.Mode == "protect" {
				e.Protected = append(e.Protected, w.ID)
			}
		}
	}
	return e
}

func (s *Server) enforcement(r *http.Request, _ principal) (any, error) {
	if _, err := parseParams(r.URL.RawQuery); err != nil {
		return nil, err
	}
	return s.enforcementInfo(), nil
}
