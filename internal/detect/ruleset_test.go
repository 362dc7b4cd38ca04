package detect

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/config"
)

func ruleYAML(name, cond string) string {
	return "- rule: " + name + "\n  desc: d\n  condition: " + cond + "\n  output: \"" + name + " %proc.name\"\n  priority: notice\n\n"
}

// loadConfig is how the agent loads its rules: Load with the
// configuration's options, then Runnable.
func loadConfig(c *config.Config) (*RuleSet, error) {
	rs, err := Load(LoadOptionsFrom(c))
	if err != nil {
		return nil, err
	}
	return rs, rs.Runnable()
}

// TestSummarizeAndLog: per file, rules enabled, disabled and skipped,
// each skip with its reason.
func TestSummarizeAndLog(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	if err := os.WriteFile(a, []byte(ruleYAML("on", "evt.type = openat")+
		"- rule: off\n  desc: d\n  condition: evt.type = openat\n  output: o\n  priority: notice\n  enabled: false\n\n"+
		ruleYAML("unknown field", "evt.type = openat and proc.nope = 1")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte("- rule: audit\n  desc: d\n  condition: ka.verb = create\n  output: o\n  priority: notice\n  source: k8s_audit\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := config.Default()
	c.Rules = []string{a, b}
	rs, err := loadConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	got := rs.Summarize()
	want := []FileSummary{
		{File: a, Enabled: 1, Disabled: 1, Skipped: []SkippedRule{{Name: "unknown field", Pos: a + ":14:3",
			Reason: a + `:16:36: warning: rule "unknown field" is skipped: unknown field "proc.nope"`}}},
		{File: b, Skipped: []SkippedRule{{Name: "audit", Pos: b + ":1:3", Reason: "for event source k8s_audit, which Vigil does not serve"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("summary\n%+v\nwant\n%+v", got, want)
	}
	var buf bytes.Buffer
	rs.Log(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: dropTime})))
	for _, line := range []string{
		`level=INFO msg="rule file loaded" file=` + a + ` enabled=1 disabled=1 skipped=1`,
		`level=WARN msg="rule skipped" rule="unknown field" at=` + a + `:14:3 reason="` + a + `:16:36: warning: rule \"unknown field\" is skipped: unknown field \"proc.nope\""`,
		`level=INFO msg="rule file loaded" file=` + b + ` enabled=0 disabled=0 skipped=1`,
	} {
		if !strings.Contains(buf.String(), line+"\n") {
			t.Errorf("log lacks %s:\n%s", line, buf.String())
		}
	}
}

func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

func TestRunnableRefusesNoneEnabled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.yaml")
	if err := os.WriteFile(path, []byte("- rule: off\n  desc: d\n  condition: evt.type = openat\n  output: o\n  priority: notice\n  enabled: false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := config.Default()
	c.Rules = []string{path}
	if _, err := loadConfig(c); err == nil || err.Error() != "no enabled rules to run" {
		t.Errorf("error %v", err)
	}
	c.Rules = []string{filepath.Join(t.TempDir(), "missing.yaml")}
	if _, err := loadConfig(c); err == nil || !strings.Contains(err.Error(), "missing.yaml: no such file") {
		t.Errorf("error %v", err)
	}
}
