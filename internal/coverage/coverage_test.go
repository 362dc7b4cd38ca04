package coverage

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/detect"
)

var update = flag.Bool("update", false, "rewrite docs/coverage.md from rules/coverage.yaml")

const (
	mapPath = "../../rules/coverage.yaml"
	docPath = "../../docs/coverage.md"
)

// defaultRules loads the embedded default rules, stable and experimental,
// as the map sees them.
func defaultRules(t *testing.T) []Rule {
	t.Helper()
	stable, err := detect.Load(detect.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	all, err := detect.Load(detect.LoadOptions{Experimental: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Diagnostics) > 0 {
		t.Fatalf("default rules have diagnostics:\n%s", all.Diagnostics)
	}
	var out []Rule
	for _, r := range all.Program.Rules() {
		out = append(out, Rule{Name: r.Name, Experimental: stable.Program.Rule(r.Name) == nil, Tags: r.Tags})
	}
	return out
}

// TestCoverageMap keeps rules/coverage.yaml, the default rules and
// docs/coverage.md in step: the map must pass Check, and the page must be
// what Render makes of it (-update rewrites the page).
func TestCoverageMap(t *testing.T) {
	rules := defaultRules(t)
	m, err := Read(mapPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range Check(m, rules) {
		t.Error(e)
	}
	want := Render(m, rules)
	got, err := os.ReadFile(docPath)
	if err == nil && string(got) == want {
		return
	}
	if !*update {
		t.Fatalf("docs/coverage.md is missing or stale; refresh it with\n\tgo test ./internal/coverage -run TestCoverageMap -update")
	}
	if err := os.WriteFile(docPath, []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCheckFindsEveryKindOfDrift: each way the map can fall out of step
// with the rules is reported.
func TestCheckFindsEveryKindOfDrift(t *testing.T) {
	rules := []Rule{
		{Name: "A", Tags: []string{"T1070.002"}},
		{Name: "B", Experimental: true, Tags: []string{"T1496"}},
		{Name: "C", Tags: []string{"T9999"}},
		{Name: "D"},
	}
	m := &Map{}
	m.Falco.Rules = map[string][]string{"f.yaml": {"Falco one", "Falco two"}}
	m.Behaviours = []Behaviour{
		{ID: "logs", Behaviour: "logs cleared", Falco: []string{"Falco one"}, Attack: []string{"T1070.002", "T1234"}, Status: Covered, Rules: []string{"A", "Nope"}},
		{ID: "logs", Behaviour: "again", Falco: []string{"Falco one", "Falco three"}, Status: Covered, Rules: []string{"B"}},
		{ID: "Bad_ID", Behaviour: "x", Status: TooNoisy},
		{ID: "odd", Behaviour: "x", Status: "maybe", Reason: "r"},
	}
	m.Techniques = []Technique{
		{ID: "T1070", Name: "Indicator Removal", Matrices: []string{"linux"}, Status: Covered, Rules: []string{"A"}},
		{ID: "T1070.002", Name: "Clear Logs", Matrices: []string{"linux"}, Status: Covered},
		{ID: "T1496", Name: "Resource Hijacking", Matrices: []string{"mars"}, Status: Covered, Rules: []string{"B"}},
		{ID: "X1", Name: "", Status: NotObservable, Reason: "r"},
	}
	got := strings.Join(Check(m, rules), "\n")
	for _, want := range []string{
		`behaviour logs: no default rule is named "Nope"`,
		`behaviour logs: listed twice`,
		`behaviour logs: Falco rule "Falco one" is already behaviour logs's`,
		`behaviour logs: Falco rule "Falco three" is not in the falco rules list`,
		`behaviour logs: technique T1234 has no technique row`,
		`behaviour logs: covered, but names no stable rule`,
		`behaviour Bad_ID: ids are lower-case words joined by -`,
		`behaviour Bad_ID: too-noisy needs a reason`,
		`behaviour odd: status "maybe" is not one of`,
		`falco: no behaviour says what becomes of "Falco two"`,
		`technique T1070.002: covered, but names no stable rule`,
		`technique T1070.002: lists rules [], but the rules tagged with it (or a sub-technique) are ["A"]`,
		`technique T1496: matrix "mars" is not linux, containers or other`,
		`technique X1: not a technique id`,
		`technique X1: no name`,
		`rule "C" is tagged T9999, which has no technique row`,
		`rule "D" is in no row of the map`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Check does not report %q; it said:\n%s", want, got)
		}
	}
}
