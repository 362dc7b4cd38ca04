// Package coverage reads the detection coverage map (rules/coverage.yaml),
// checks it against the default rules and renders docs/coverage.md from
// it.
//
// The map has two tables. Behaviours are what Falco's public rules detect
// (grouped where several rules see the same behaviour) and what Vigil's own
// threat list adds; techniques are every technique and sub-technique of the
// MITRE ATT&CK Linux and Containers matrices, plus any other a default rule
// is tagged with. Each row says whether a default rule covers it, or why
// not. The test in this package keeps the map, the rules and the generated
// page in step.
package coverage

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigilsec/vigil/internal/yamldoc"
)

// Status says how a row is covered.
type Status string

// Statuses.
const (
	// Covered: a stable default rule (loaded by vigil run) detects it.
	Covered Status = "covered"
	// Planned: it needs sensor work first; any rule named detects it
	// only partly or outside the defaults.
	Planned Status = "planned"
	// TooNoisy: a rule would fire on ordinary work; an experimental
	// rule may be named.
	TooNoisy Status = "too-noisy"
	// Baselines: it is only suspicious against what a site expects
	// (allowed images, networks, users), which only the site knows.
	Baselines Status = "baselines"
	// NotObservable: a syscall and process sensor cannot see it.
	NotObservable Status = "not-observable"
)

var statuses = []Status{Covered, Planned, TooNoisy, Baselines, NotObservable}

// Map is the coverage map.
type Map struct {
	// Falco names the rule files the behaviours were drawn from and every
	// rule in them, so that a behaviour cannot lose its source silently.
	Falco struct {
		Repository string              `yaml:"repository"`
		Commit     string              `yaml:"commit"`
		Rules      map[string][]string `yaml:"rules"` // file -> rule names
	} `yaml:"falco"`
	// Attack names the ATT&CK release the techniques come from.
	Attack struct {
		Version string `yaml:"version"`
		Source  string `yaml:"source"`
	} `yaml:"attack"`
	Behaviours []Behaviour `yaml:"behaviours"`
	Techniques []Technique `yaml:"techniques"`
}

// Behaviour is one thing an attacker does, in Vigil's words.
type Behaviour struct {
	ID        string   `yaml:"id"`
	Behaviour string   `yaml:"behaviour"`
	Falco     []string `yaml:"falco"`  // the Falco rules that detect it
	Attack    []string `yaml:"attack"` // technique ids
	Status    Status   `yaml:"status"`
	Rules     []string `yaml:"rules"`
	Reason    string   `yaml:"reason"` // why not covered, or what a covered row leaves out
}

// Technique is one ATT&CK technique or sub-technique.
type Technique struct {
	ID       string   `yaml:"id"`
	Name     string   `yaml:"name"`
	Matrices []string `yaml:"matrices"` // linux, containers, or other
	Status   Status   `yaml:"status"`
	Rules    []string `yaml:"rules"`
	Reason   string   `yaml:"reason"`
}

// Rule is what the map needs to know of a default rule.
type Rule struct {
	Name         string
	Experimental bool
	Tags         []string
}

// Read parses a coverage map; unknown keys are errors.
func Read(path string) (*Map, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	doc, err := yamldoc.ParseOne(path, data)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, fmt.Errorf("%s: empty coverage map", path)
	}
	var m Map
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &m, nil
}

var (
	techniqueID = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)
	behaviourID = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	matrices    = map[string]bool{"linux": true, "containers": true, "other": true}
)

// Check returns every inconsistency between the map and the rules: bad
// or duplicate ids, unknown statuses, rules that do not exist, covered
// rows without a stable rule, uncovered rows without a reason, default
// rules the map never names, Falco rules no behaviour names (or named
// twice), technique ids no technique row describes, and technique rows
// whose rules differ from the rules tagged with that technique.
func Check(m *Map, rules []Rule) []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	byName := map[string]*Rule{}
	for i := range rules {
		byName[rules[i].Name] = &rules[i]
	}
	named := map[string]bool{}
	checkRow := func(where string, st Status, rs []string, reason string) {
		if !validStatus(st) {
			bad("%s: status %q is not one of %v", where, st, statuses)
		}
		stable := false
		seen := map[string]bool{}
		for _, name := range rs {
			r, ok := byName[name]
			switch {
			case !ok:
				bad("%s: no default rule is named %q", where, name)
				continue
			case seen[name]:
				bad("%s: %q is listed twice", where, name)
			}
			seen[name] = true
			named[name] = true
			stable = stable || !r.Experimental
		}
		if st == Covered && !stable {
			bad("%s: covered, but names no stable rule", where)
		}
		if st != Covered && strings.TrimSpace(reason) == "" {
			bad("%s: %s needs a reason", where, st)
		}
	}

	techniques := map[string]bool{}
	for _, t := range m.Techniques {
		where := "technique " + t.ID
		if !techniqueID.MatchString(t.ID) {
			bad("%s: not a technique id", where)
		}
		if techniques[t.ID] {
			bad("%s: listed twice", where)
		}
		techniques[t.ID] = true
		if t.Name == "" {
			bad("%s: no name", where)
		}
		if len(t.Matrices) == 0 {
			bad("%s: no matrix", where)
		}
		for _, mx := range t.Matrices {
			if !matrices[mx] {
				bad("%s: matrix %q is not linux, containers or other", where, mx)
			}
		}
		checkRow(where, t.Status, t.Rules, t.Reason)
		want := taggedWith(rules, t.ID)
		if got := sortedCopy(t.Rules); strings.Join(got, "\n") != strings.Join(want, "\n") {
			bad("%s: lists rules %q, but the rules tagged with it (or a sub-technique) are %q", where, got, want)
		}
	}

	falcoListed := map[string]bool{}
	for file, names := range m.Falco.Rules {
		for _, n := range names {
			if falcoListed[n] {
				bad("falco: %q is listed twice (last in %s)", n, file)
			}
			falcoListed[n] = true
		}
	}
	falcoUsed := map[string]string{}
	behaviours := map[string]bool{}
	for _, b := range m.Behaviours {
		where := "behaviour " + b.ID
		if !behaviourID.MatchString(b.ID) {
			bad("%s: ids are lower-case words joined by -", where)
		}
		if behaviours[b.ID] {
			bad("%s: listed twice", where)
		}
		behaviours[b.ID] = true
		if strings.TrimSpace(b.Behaviour) == "" {
			bad("%s: says no behaviour", where)
		}
		for _, f := range b.Falco {
			if !falcoListed[f] {
				bad("%s: Falco rule %q is not in the falco rules list", where, f)
			}
			if other, ok := falcoUsed[f]; ok {
				bad("%s: Falco rule %q is already behaviour %s's", where, f, other)
			}
			falcoUsed[f] = b.ID
		}
		for _, id := range b.Attack {
			if !techniques[id] {
				bad("%s: technique %s has no technique row", where, id)
			}
		}
		checkRow(where, b.Status, b.Rules, b.Reason)
	}
	for n := range falcoListed {
		if _, ok := falcoUsed[n]; !ok {
			bad("falco: no behaviour says what becomes of %q", n)
		}
	}
	for _, r := range rules {
		if !named[r.Name] {
			bad("rule %q is in no row of the map", r.Name)
		}
		for _, tag := range r.Tags {
			if techniqueID.MatchString(tag) && !techniques[tag] {
				bad("rule %q is tagged %s, which has no technique row", r.Name, tag)
			}
		}
	}
	sort.Strings(errs)
	return errs
}

func validStatus(s Status) bool {
	for _, v := range statuses {
		if s == v {
			return true
		}
	}
	return false
}

// taggedWith returns the names of the rules tagged with technique id or
// one of its sub-techniques, sorted.
func taggedWith(rules []Rule, id string) []string {
	var out []string
	for _, r := range rules {
		for _, tag := range r.Tags {
			if tag == id || strings.HasPrefix(tag, id+".") {
				out = append(out, r.Name)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
