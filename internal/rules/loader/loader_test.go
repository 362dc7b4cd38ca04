package loader

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/rules/internal/golden"
	"github.com/vigilsec/vigil/internal/rules/lang"
)

// describeRuleSet renders a rule set for golden files: each rule with its
// expanded condition, then every diagnostic.
func describeRuleSet(rs *RuleSet) string {
	var b strings.Builder
	for _, r := range rs.Rules {
		state := "enabled"
		if !r.Enabled {
			state = "disabled"
		}
		fmt.Fprintf(&b, "rule %q (%s, %s, source=%s", r.Name, state, r.Priority, r.Source)
		if !r.ForThisEngine {
			b.WriteString(", not for this engine")
		}
		fmt.Fprintf(&b, ") at %s\n", r.Pos)
		if len(r.Tags) > 0 {
			fmt.Fprintf(&b, "  tags: %s\n", strings.Join(r.Tags, ", "))
		}
		fmt.Fprintf(&b, "  desc: %s\n", r.Desc)
		if r.Expr != nil {
			fmt.Fprintf(&b, "  condition: %s\n", r.ConditionText())
		} else {
			b.WriteString("  condition: <not loaded>\n")
		}
		if r.Output != nil {
			fmt.Fprintf(&b, "  output: %s\n", r.Output.Text)
		}
		if r.Action != ActionAlert || r.Mode != ModeDefault {
			fmt.Fprintf(&b, "  action: %s (mode %q) at %s\n", r.Action, r.Mode, r.ActionPos)
		}
	}
	if rs.RequiredEngineVersion != "" {
		fmt.Fprintf(&b, "required engine version: %s\n", rs.RequiredEngineVersion)
	}
	for _, p := range rs.RequiredPlugins {
		var alts []string
		for _, a := range p.Alternatives {
			alts = append(alts, a.Name+"@"+a.Version)
		}
		fmt.Fprintf(&b, "required plugin: %s\n", strings.Join(alts, " or "))
	}
	b.WriteString("diagnostics:\n")
	for _, d := range rs.Diagnostics {
		fmt.Fprintf(&b, "  %s\n", d)
	}
	return b.String()
}

// TestLoadGolden loads each testdata/cases entry, a file or a directory of
// files loaded in name order, and compares with its .golden file.
func TestLoadGolden(t *testing.T) {
	entries, err := os.ReadDir("testdata/cases")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".golden") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata/cases", name)
			rs, err := Load(Options{EngineVersion: "0.50.0", Plugins: map[string]string{"container": "0.3.0"}}, path)
			if err != nil {
				t.Fatal(err)
			}
			base := strings.TrimSuffix(name, filepath.Ext(name))
			golden.Check(t, filepath.Join("testdata/cases", base+".golden"), []byte(describeRuleSet(rs)))
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load(Options{}, "testdata/does-not-exist.yaml"); err == nil {
		t.Fatal("no error for a missing file")
	}
}

func TestParsePriority(t *testing.T) {
	for in, want := range map[string]Priority{
		"EMERGENCY": PriorityEmergency, "alert": PriorityAlert, "Critical": PriorityCritical,
		"error": PriorityError, "WARNING": PriorityWarning, "notice": PriorityNotice,
		"informational": PriorityInformational, "INFO": PriorityInformational, "debug": PriorityDebug,
	} {
		if got, ok := ParsePriority(in); !ok || got != want {
			t.Errorf("ParsePriority(%q) = %v, %v", in, got, ok)
		}
	}
	if _, ok := ParsePriority("loud"); ok {
		t.Error("ParsePriority accepted loud")
	}
}

// TestConditionPositionsInYAML checks that errors inside conditions point
// into the YAML file for every scalar style.
func TestConditionPositionsInYAML(t *testing.T) {
	for _, c := range []struct{ name, yaml, want string }{
		{"plain", "- macro: m\n  condition: proc.name = bash and\n", "p.yaml:2:34"},
		{"single", "- macro: m\n  condition: 'proc.name = ''a'' and'\n", "p.yaml:2:36"},
		{"double", "- macro: m\n  condition: \"proc.name = \\\"a\\\" and (\"\n", "p.yaml:2:38"},
		{"literal", "- macro: m\n  condition: |\n    proc.name = bash\n      and (fd.name = x\n", "p.yaml:4:11"},
		{"folded", "- macro: m\n  condition: >-\n    proc.name = bash and\n    fd.name in (a,\n      b\n", "p.yaml:4:16"},
		{"plain-multiline", "- macro: m\n  condition: proc.name = bash\n    and fd.name in (a b)\n", "p.yaml:3:23"},
	} {
		l := New(Options{})
		l.LoadBytes("p.yaml", []byte(c.yaml))
		rs := l.RuleSet()
		var got lang.Pos
		for _, d := range rs.Diagnostics {
			if d.Severity == lang.SeverityError {
				got = d.Pos
				break
			}
		}
		if got.String() != c.want {
			t.Errorf("%s: error at %s, want %s\n%s", c.name, got, c.want, rs.Diagnostics)
		}
	}
}
