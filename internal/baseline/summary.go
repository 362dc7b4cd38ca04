package baseline

import (
	"slices"
	"strings"
	"time"

	"github.com/vigilsec/vigil/internal/baseline/store"
)

// Summary is one line of `vigil baseline list`.
type Summary struct {
	ID   string
	Name string
	Mode string
	// Entries counts each dimension's entries, by dimension name.
	Entries     map[string]int
	Created     time.Time
	ModeChanged time.Time
	LastChange  time.Time
}

// Total returns the number of entries over all dimensions.
func (s *Summary) Total() int {
	n := 0
	for _, v := range s.Entries {
		n += v
	}
	return n
}

// Workloads summarises every baseline, by id.
func (e *Engine) Workloads() []Summary {
	var out []Summary
	for _, p := range e.profiles() {
		sizes := p.view.Load().sizes()
		s := Summary{ID: p.w.ID, Name: p.w.Name, Mode: p.getMode().String(), Entries: map[string]int{},
			Created: unixTime(p.created), ModeChanged: unixTime(p.modeChanged.Load()), LastChange: unixTime(p.lastChange.Load())}
		for d := range NumDimensions {
			s.Entries[d.String()] = sizes[d]
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Summary) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// SummaryFromRecord summarises a stored baseline, for the commands that
// work on the store while the agent is down. Entries count stored items
// (an executable with several identities counts once per identity).
func SummaryFromRecord(r store.Record) Summary {
	s := Summary{ID: r.ID, Name: r.Name, Mode: r.Mode, Entries: map[string]int{}, Created: unixTime(r.Created),
		ModeChanged: unixTime(r.ModeChanged), LastChange: unixTime(r.LastChange)}
	for d := range NumDimensions {
		s.Entries[d.String()] = 0
	}
	for _, it := range r.Items {
		s.Entries[it.Dim]++
	}
	return s
}

func unixTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }
