package vulndb

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vigilsec/vigil/internal/vulndb/osv"
	"github.com/vigilsec/vigil/internal/vulndb/version"
)

// verdict is the outcome of evaluating one affected[] entry against one
// installed version.
type verdict struct {
	affected bool
	desc     string // the affected range that contains the version
	fixed    string // the nearest fixed version above it, if any
	notes    []string
}

// event is a parsed range event. v is nil for introduced "0" (before
// everything) and limit "*" (after everything).
type event struct {
	kind string // introduced, fixed, last_affected, limit
	raw  string
	v    version.Version
}

// evaluate applies the OSV algorithm to one affected entry: the version
// is affected if it lies in any range or is listed in versions. eco is
// the ecosystem scheme; SEMVER ranges use Semantic Versioning unless the
// ecosystem's own scheme already is SemVer.
func evaluate(a *osv.Affected, eco version.Scheme, installed string) (verdict, error) {
	var out verdict
	ecoV, err := eco.Parse(installed)
	if err != nil {
		return out, err
	}
	var semV version.Version
	var nearest *event // lowest fixed above the version, over all ranges
	var nearestScheme version.Scheme
	for i, rg := range a.Ranges {
		scheme, v := eco, ecoV
		switch rg.Type {
		case osv.RangeGit:
			out.notes = append(out.notes, "GIT range ignored (commit ranges need the source tree)")
			continue
		case osv.RangeSemVer:
			if eco != version.Go && eco != version.SemVer {
				if semV == nil {
					if semV, err = version.SemVer.Parse(installed); err != nil {
						return out, fmt.Errorf("ranges[%d] is SEMVER: %w", i, err)
					}
				}
				scheme, v = version.SemVer, semV
			}
		}
		events, err := parseEvents(scheme, rg.Events)
		if err != nil {
			return out, fmt.Errorf("ranges[%d]: %w", i, err)
		}
		if hit, desc, fix := inRange(events, v); hit && !out.affected {
			out.affected, out.desc, out.fixed = true, desc, fix
		}
		if f := nearestFixed(events, v); f != nil && (nearest == nil || (nearestScheme == scheme && f.v.Compare(nearest.v) < 0)) {
			nearest, nearestScheme = f, scheme
		}
	}
	if !out.affected {
		if nearest != nil {
			out.fixed = nearest.raw
		}
		for _, listed := range a.Versions {
			if listed == installed {
				out.affected, out.desc = true, "listed version "+listed
				break
			}
			if lv, err := eco.Parse(listed); err == nil && lv.Compare(ecoV) == 0 {
				out.affected, out.desc = true, "listed version "+listed
				break
			}
		}
	}
	return out, nil
}

func parseEvents(s version.Scheme, raw []osv.Event) ([]event, error) {
	out := make([]event, 0, len(raw))
	for _, e := range raw {
		ev := event{}
		switch {
		case e.Introduced != "":
			ev.kind, ev.raw = "introduced", e.Introduced
		case e.Fixed != "":
			ev.kind, ev.raw = "fixed", e.Fixed
		case e.LastAffected != "":
			ev.kind, ev.raw = "last_affected", e.LastAffected
		case e.Limit != "":
			ev.kind, ev.raw = "limit", e.Limit
		default:
			continue
		}
		if (ev.kind == "introduced" && ev.raw == "0") || (ev.kind == "limit" && ev.raw == "*") {
			out = append(out, ev)
			continue
		}
		v, err := s.Parse(ev.raw)
		if err != nil {
			return nil, fmt.Errorf("%s event: %w", ev.kind, err)
		}
		ev.v = v
		out = append(out, ev)
	}
	return out, nil
}

// inRange is the schema's evaluation: limits first (the version must sort
// below at least one), then the events in version order toggle
// "vulnerable" on introduced ≤ v, off on fixed ≤ v and last_affected < v.
// For an affected version it also describes the interval and gives the
// fixed version that closes it ("" when it ends at last_affected or is
// open: no fix is known for this line).
func inRange(events []event, v version.Version) (hit bool, desc, fix string) {
	var limits []event
	var evs []event
	for _, e := range events {
		if e.kind == "limit" {
			limits = append(limits, e)
		} else {
			evs = append(evs, e)
		}
	}
	if len(limits) > 0 {
		below := false
		for _, l := range limits {
			if l.v == nil || v.Compare(l.v) < 0 {
				below = true
			}
		}
		if !below {
			return false, "", ""
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return less(evs[i].v, evs[j].v) })
	vulnerable, start := false, -1
	for i, e := range evs {
		switch e.kind {
		case "introduced":
			if e.v == nil || v.Compare(e.v) >= 0 {
				vulnerable, start = true, i
			}
		case "fixed":
			if v.Compare(e.v) >= 0 {
				vulnerable = false
			}
		case "last_affected":
			if v.Compare(e.v) > 0 {
				vulnerable = false
			}
		}
	}
	if !vulnerable {
		return false, "", ""
	}
	desc, fix = describe(evs, start, limits)
	return true, desc, fix
}

// less sorts nil (introduced "0") first.
func less(a, b version.Version) bool {
	switch {
	case a == nil:
		return b != nil
	case b == nil:
		return false
	}
	return a.Compare(b) < 0
}

// describe renders the interval that starts at evs[start] and names the
// fixed event that closes it, if one does.
func describe(evs []event, start int, limits []event) (desc, fix string) {
	var parts []string
	if evs[start].v == nil {
		parts = append(parts, ">=0")
	} else {
		parts = append(parts, ">="+evs[start].raw)
	}
	for _, e := range evs[start+1:] {
		if e.kind == "fixed" {
			parts = append(parts, "<"+e.raw)
			fix = e.raw
			break
		}
		if e.kind == "last_affected" {
			parts = append(parts, "<="+e.raw)
			break
		}
	}
	for _, l := range limits {
		if l.v != nil {
			parts = append(parts, "<"+l.raw+" (limit)")
		}
	}
	return strings.Join(parts, ", "), fix
}

// nearestFixed is the lowest fixed event above v.
func nearestFixed(events []event, v version.Version) *event {
	var best *event
	for i := range events {
		e := &events[i]
		if e.kind != "fixed" || v.Compare(e.v) >= 0 {
			continue
		}
		if best == nil || e.v.Compare(best.v) < 0 {
			best = e
		}
	}
	return best
}
