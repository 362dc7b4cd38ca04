package ruletest

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/syscalls"
)

// repoFile returns the path of a file relative to the repository root.
func repoFile(t testing.TB, rel string) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..", rel)
}

func loadDefault(t testing.TB) *detect.RuleSet {
	t.Helper()
	rs, err := detect.Load(detect.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Diagnostics) > 0 {
		t.Fatalf("default rules have diagnostics:\n%s", rs.Diagnostics)
	}
	return rs
}

// TestDefaultRulesFixture runs the example fixture shipped with the
// default rules: every default rule fires on the attack it describes and
// stays quiet on the look-alike.
func TestDefaultRulesFixture(t *testing.T) {
	rs := loadDefault(t)
	f, err := Read(repoFile(t, "rules/testdata/vigil_rules_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, r := range Run(rs.Program, f) {
		for _, fail := range r.Failures {
			t.Errorf("%s: %s: %s", r.Test.Pos, r.Test.Name, fail)
		}
		for _, a := range r.Alerts {
			covered[a.Rule] = true
		}
	}
	for _, r := range rs.Program.Rules() {
		if !covered[r.Name] && fixtureExpressible(r) {
			t.Errorf("no fixture test fires %q", r.Name)
		}
	}
}

// fixtureExpressible says whether a fixture can describe an event that
// fires r: fixtures have no containers and no arguments of the generic
// syscalls, so rules about containers (not tagged host) or on generic
// syscalls are proven on real events by test/e2e/rules instead.
func fixtureExpressible(r *detect.Rule) bool {
	if !slices.Contains(r.Tags, "host") {
		return false
	}
	for _, name := range r.Types.Names() {
		if syscalls.HandlerFor(name) == syscalls.Generic {
			return false
		}
	}
	return true
}

func TestFixtureFailuresAreReported(t *testing.T) {
	rs := loadDefault(t)
	f, err := Parse("f.yaml", []byte(`
tests:
  - name: wrong expectations
    event: {evt.type: openat, proc.name: cat, fd.name: /etc/shadow}
    fire: [Write below /etc, No such rule]
    not_fire: [Credential file read by an unexpected program]
    output: {Write below /etc: x}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := Run(rs.Program, f)[0]
	got := strings.Join(r.Failures, "\n")
	for _, want := range []string{
		`no enabled rule named "No such rule" is loaded`,
		`"Write below /etc" did not fire (fired: "Credential file read by an unexpected program")`,
		`"Credential file read by an unexpected program" fired: Credential file opened for reading (file=/etc/shadow`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("failures lack %q:\n%s", want, got)
		}
	}
}

func TestFixtureErrorsArePositioned(t *testing.T) {
	for src, want := range map[string]string{
		"tests:\n  - name: a\n    event: {evt.type: open, proc.nmae: x}\n    fire: [r]\n":   `f.yaml:3:29: "proc.nmae" cannot be set here`,
		"tests:\n  - name: a\n    event: {evt.type: open}\n":                                `f.yaml:2:5: test "a" expects nothing`,
		"tests:\n  - name: a\n    evnt: {}\n":                                               `f.yaml:3:5: test: unknown key "evnt"`,
		"tests:\n  - name: a\n    event: {evt.type: open, user.uid: root}\n    fire: [r]\n": `f.yaml:3:39: user.uid: "root" is not an unsigned number`,
		"tests: [\n": "f.yaml:2: invalid YAML: did not find expected node content",
		"":           "empty fixture",
	} {
		f, err := Parse("f.yaml", []byte(src))
		if err == nil && f != nil && len(f.Tests) == 1 {
			// Value errors surface when the test runs.
			r := Run(loadDefault(t).Program, f)[0]
			if len(r.Failures) > 0 {
				err = errorString(r.Failures[len(r.Failures)-1])
			}
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", src, err, want)
		}
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

// FuzzFixture: no fixture file, however malformed, makes parsing or
// running it panic; failures are reported, positioned.
func FuzzFixture(f *testing.F) {
	f.Add([]byte("tests:\n  - name: a\n    event: {evt.type: openat, proc.name: cat, fd.name: /etc/shadow}\n    ancestors: [{proc.name: sshd}]\n    fire: [Read sensitive file untrusted]\n"))
	f.Add([]byte("tests:\n  - name: b\n    event: {evt.type: connect, fd.rip: 10.0.0.1, fd.rport: 443, proc.loader_env: [LD_PRELOAD=x]}\n    not_fire: [x]\n"))
	f.Add([]byte("tests:\n  - name: c\n    event: {evt.type: execve, proc.args: [a, b], proc.is_secure_exec: true, evt.rawres: -2}\n    fire: []\n"))
	rs, err := detect.Load(detect.LoadOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fx, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") && !strings.Contains(err.Error(), "empty fixture") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		Run(rs.Program, fx)
	})
}

// TestTuneDefaults amends the default rules from a file (a rule turned
// off, a list extended) and checks the outcome with a fixture.
func TestTuneDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tuning.yaml")
	if err := os.WriteFile(path, []byte(`
- rule: Write below /etc
  enabled: false
  override:
    enabled: replace

- list: credential_readers
  items: [my-backup-agent]
  override:
    items: append
`), 0o644); err != nil {
		t.Fatal(err)
	}
	rs, err := detect.Load(detect.LoadOptions{Paths: []string{path}, Defaults: true})
	if err != nil || len(rs.Diagnostics) > 0 {
		t.Fatal(err, rs.Diagnostics)
	}
	if r := rs.Program.Rule("Write below /etc"); r == nil || r.Enabled {
		t.Error("Write below /etc is still enabled")
	}
	f, err := Parse("f.yaml", []byte(`
tests:
  - name: the backup agent may read shadow
    event: {evt.type: openat, proc.name: my-backup-agent, fd.name: /etc/shadow}
    not_fire: [Credential file read by an unexpected program]
  - name: others may not
    event: {evt.type: openat, proc.name: tar, fd.name: /etc/shadow}
    fire: [Credential file read by an unexpected program]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Run(rs.Program, f) {
		for _, msg := range r.Failures {
			t.Errorf("%s: %s", r.Test.Name, msg)
		}
	}
}
