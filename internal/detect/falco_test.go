package detect

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vigilsec/vigil/internal/config"
)

// ladderRules match the same event three times, least severe first.
const ladderRules = `
- rule: Debug read
  desc: d
  condition: evt.type = openat and fd.name = /etc/shadow
  output: debug %fd.name
  priority: debug
- rule: Warning read
  desc: d
  condition: evt.type = openat and fd.name = /etc/shadow
  output: warning %fd.name
  priority: warning
- rule: Error read
  desc: d
  condition: evt.type = openat and fd.name = /etc/shadow
  output: error %fd.name
  priority: error
`

// fired evaluates the shadow-read event with the rules cfg loads and
// returns the rules that alerted.
func fired(t *testing.T, cfg *config.Config) []string {
	t.Helper()
	rs, err := Load(LoadOptionsFrom(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Runnable(); err != nil {
		t.Fatal(err)
	}
	ev := openEvent(70, "/etc/shadow")
	defer ev.Release()
	var names []string
	for _, a := range New(Config{Program: rs.Program}).Evaluate(ev) {
		names = append(names, a.Rule)
	}
	return names
}

// TestFalcoPriorityAndRuleMatching: a falco.yaml's priority leaves the
// less severe rules out, and rule_matching: first (Falco's default) lets
// only the first matching rule alert; the Vigil configuration
// `config from-falco` writes behaves the same.
func TestFalcoPriorityAndRuleMatching(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rules, []byte(ladderRules), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		falco string
		want  []string
	}{
		{"rules_files: [" + rules + "]\n", []string{"Debug read"}},
		{"rules_files: [" + rules + "]\npriority: warning\n", []string{"Warning read"}},
		{"rules_files: [" + rules + "]\npriority: warning\nrule_matching: all\n", []string{"Warning read", "Error read"}},
		{"rules_files: [" + rules + "]\nrule_matching: all\n", []string{"Debug read", "Warning read", "Error read"}},
		{"rules_files: [" + rules + "]\npriority: critical\nrule_matching: all\n", nil},
	} {
		path := filepath.Join(dir, "falco.yaml")
		if err := os.WriteFile(path, []byte(tc.falco), 0o644); err != nil {
			t.Fatal(err)
		}
		c, info, err := config.LoadFile(path, true, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.want == nil {
			rs, err := Load(LoadOptionsFrom(c))
			if err != nil {
				t.Fatal(err)
			}
			if rs.Runnable() == nil {
				t.Errorf("%q: rules below the priority still run", tc.falco)
			}
			continue
		}
		if got := fired(t, c); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: fired %q, want %q", tc.falco, got, tc.want)
		}
		out, err := config.MarshalFromFalco(c, info.Notes, path)
		if err != nil {
			t.Fatal(err)
		}
		vigil := filepath.Join(dir, "vigil.yaml")
		if err := os.WriteFile(vigil, out, 0o644); err != nil {
			t.Fatal(err)
		}
		v, vinfo, err := config.LoadFile(vigil, true, nil, nil)
		if err != nil || vinfo.Kind != config.KindVigil {
			t.Fatalf("translated: %v %v\n%s", vinfo, err, out)
		}
		if got := fired(t, v); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q translated: fired %q, want %q\n%s", tc.falco, got, tc.want, out)
		}
	}
}
