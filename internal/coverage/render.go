package coverage

import (
	"fmt"
	"sort"
	"strings"
)

// Render returns docs/coverage.md for the map: a summary by status, the
// behaviours, the techniques, and every default rule with the rows that
// name it. It depends on nothing but its arguments, so the page changes
// exactly when the map or the rules do.
func Render(m *Map, rules []Rule) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	byName := map[string]*Rule{}
	for i := range rules {
		byName[rules[i].Name] = &rules[i]
	}
	ruleList := func(names []string) string {
		var out []string
		for _, n := range names {
			s := n
			if r := byName[n]; r != nil && r.Experimental {
				s += " (experimental)"
			}
			out = append(out, s)
		}
		return cell(strings.Join(out, "; "))
	}
	falcoCount := 0
	for _, names := range m.Falco.Rules {
		falcoCount += len(names)
	}
	stable, experimental := 0, 0
	for _, r := range rules {
		if r.Experimental {
			experimental++
		} else {
			stable++
		}
	}

	p("# Detection coverage\n\n")
	p("<!-- Generated from rules/coverage.yaml by TestCoverageMap in internal/coverage; edit the YAML and refresh with\n")
	p("     go test ./internal/coverage -run TestCoverageMap -update -->\n\n")
	p("What Vigil's default rules (%d stable, %d experimental) detect, measured against two outside lists:\n\n", stable, experimental)
	p("- **Behaviours**: everything the %d rules of Falco's public rule files detect (%s at %s: %s), grouped where several rules see the same behaviour, plus the behaviours of Vigil's own threat list. Vigil's rules are its own; only the behaviour is shared.\n",
		falcoCount, m.Falco.Repository, short(m.Falco.Commit), strings.Join(sortedKeys(m.Falco.Rules), ", "))
	p("- **Techniques**: every technique and sub-technique of the MITRE ATT&CK %s Linux and Containers matrices, and any other a default rule is tagged with.\n\n", m.Attack.Version)
	p("A row is **covered** when a stable rule (loaded by `vigil run`) detects it. Otherwise it says why not:\n")
	p("**planned** (it needs sensor work first), **too-noisy** (a rule fires on ordinary work; an experimental one may exist),\n")
	p("**baselines** (only suspicious against what a site expects, which the site must list), or\n")
	p("**not-observable** (a syscall and process sensor cannot see it). A covered row's note says what it leaves out.\n")
	p("Technique rows list every default rule tagged with the technique or one of its sub-techniques.\n\n")

	p("| status | behaviours | techniques |\n| --- | --- | --- |\n")
	for _, st := range statuses {
		nb, nt := 0, 0
		for _, x := range m.Behaviours {
			if x.Status == st {
				nb++
			}
		}
		for _, x := range m.Techniques {
			if x.Status == st {
				nt++
			}
		}
		p("| %s | %d | %d |\n", st, nb, nt)
	}
	p("| total | %d | %d |\n\n", len(m.Behaviours), len(m.Techniques))

	p("## Behaviours\n\n")
	p("| id | behaviour | Falco rules | ATT&CK | status | Vigil rules | note |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, x := range m.Behaviours {
		p("| %s | %s | %s | %s | %s | %s | %s |\n", x.ID, cell(x.Behaviour), cell(strings.Join(x.Falco, "; ")),
			cell(strings.Join(x.Attack, ", ")), x.Status, ruleList(x.Rules), cell(x.Reason))
	}

	p("\n## ATT&CK techniques\n\n")
	p("| id | technique | matrices | status | Vigil rules | note |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, x := range m.Techniques {
		p("| %s | %s | %s | %s | %s | %s |\n", x.ID, cell(x.Name), strings.Join(x.Matrices, ", "), x.Status, ruleList(x.Rules), cell(x.Reason))
	}

	p("\n## Default rules\n\n")
	p("| rule | set | behaviours | techniques |\n| --- | --- | --- | --- |\n")
	sorted := append([]Rule(nil), rules...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, r := range sorted {
		set := "stable"
		if r.Experimental {
			set = "experimental"
		}
		var bs, ts []string
		for _, x := range m.Behaviours {
			if contains(x.Rules, r.Name) {
				bs = append(bs, x.ID)
			}
		}
		for _, x := range m.Techniques {
			if contains(x.Rules, r.Name) {
				ts = append(ts, x.ID)
			}
		}
		p("| %s | %s | %s | %s |\n", cell(r.Name), set, strings.Join(bs, ", "), strings.Join(ts, ", "))
	}
	return b.String()
}

// cell makes text safe in a Markdown table cell.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
