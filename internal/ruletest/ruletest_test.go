package ruletest

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/detect"
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

// TestDefaultRulesFixture runs the fixtures shipped with the default
// rules: every default rule, stable and experimental, is made to fire by
// some test that says it must (on the attack it describes), next to the
// look-alikes that must stay quiet. The experimental fixture runs with the
// experimental rules loaded after the stable ones, as --experimental does.
func TestDefaultRulesFixture(t *testing.T) {
	stable := map[string]bool{}
	for _, r := range loadDefault(t).Program.Rules() {
		stable[r.Name] = true
	}
	for _, set := range []struct {
		experimental bool
		files        []string
	}{
		{false, []string{"vigil_rules_test.yaml", "generic_syscalls_test.yaml", "containers_test.yaml"}},
		{true, []string{"experimental_test.yaml"}},
	} {
		rs, err := detect.Load(detect.LoadOptions{Experimental: set.experimental})
		if err != nil || len(rs.Diagnostics) > 0 {
			t.Fatal(err, rs.Diagnostics)
		}
		proven := map[string]bool{}
		for _, name := range set.files {
			f, err := Read(repoFile(t, "rules/testdata/"+name))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range Run(rs.Program, f) {
				for _, fail := range r.Failures {
					t.Errorf("%s: %s: %s", r.Test.Pos, r.Test.Name, fail)
				}
				if r.Passed() {
					for _, name := range r.Test.Fire {
						proven[name] = true
					}
				}
			}
		}
		for _, r := range rs.Program.Rules() {
			if why, skip := noFixture[r.Name]; skip {
				if proven[r.Name] {
					t.Errorf("%q has a fixture now: drop it from noFixture (%s)", r.Name, why)
				}
				continue
			}
			if !proven[r.Name] && set.experimental != stable[r.Name] {
				t.Errorf("no fixture test fires %q", r.Name)
			}
		}
	}
}

// noFixture lists the default rules a fixture cannot express, and why;
// test/e2e/rules proves them on real events.
var noFixture = map[string]string{}

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
	f.Add([]byte("tests:\n  - name: d\n    event: {evt.type: linkat, evt.arg.oldpath: ../etc/shadow, evt.arg.flags: AT_SYMLINK_FOLLOW|0x10, container.mounts: [/:/host]}\n    fire: [x]\n"))
	f.Add([]byte("tests:\n  - name: e\n    event: {evt.type: ftruncate, evt.arg.fd: /var/log/x, evt.arg.length: -1, container.id: abc}\n    not_fire: [x]\n"))
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

// TestTuneDefaults: a tuning file loaded after the defaults disables a
// rule and extends a list, and the fixture runner sees the amended rules.
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

// TestGenericArgumentsAndContainers: fixtures give generic syscalls their
// arguments (paths relative to the working directory, symbolic flags, the
// file behind an fd) and put processes in containers.
func TestGenericArgumentsAndContainers(t *testing.T) {
	rs := loadDefault(t)
	f, err := Parse("f.yaml", []byte(`
tests:
  - name: history deleted, relative to the working directory
    event: {evt.type: unlinkat, proc.name: rm, proc.cwd: /home/u, evt.arg.name: .bash_history, evt.arg.flags: "0"}
    fire: [Shell history deleted]
    output:
      Shell history deleted: >-
        Shell history deleted (call=unlinkat path=/home/u/.bash_history name=/home/u/.bash_history oldpath=<NA>
        linkpath=<NA> newpath=<NA> file=<NA> user=root uid=0 process=rm pid=4000 cmdline=rm parent=<NA>
        container=host container_name=host image=<NA> pod=<NA> ns=<NA>)
  - name: a directory of that name removed
    event: {evt.type: unlinkat, proc.name: rm, evt.arg.name: /home/u/x, evt.arg.flags: AT_REMOVEDIR}
    not_fire: [Shell history deleted]
  - name: setuid bit through fchmodat
    event: {evt.type: fchmodat, proc.name: chmod, evt.arg.filename: /tmp/sh, evt.arg.mode: "04755"}
    fire: [Setuid or setgid bit set]
  - name: shell with a terminal in a container
    event: {evt.type: execve, proc.name: sh, proc.tty: 34816, container.id: 0123456789abcdef, container.image.repository: nginx}
    ancestors: [{proc.name: containerd-shim}]
    fire: [Interactive shell in a container]
    output:
      Interactive shell in a container: >-
        Interactive shell in container fixture (shell=/usr/bin/sh tty=34816 user=root uid=0 process=sh
        pid=4000 cmdline=sh parent=containerd-shim container=0123456789ab container_name=fixture
        image=nginx pod=<NA> ns=<NA>)
  - name: the same shell on the host
    event: {evt.type: execve, proc.name: sh, proc.tty: 34816}
    not_fire: [Interactive shell in a container]
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

// TestArgumentErrors: an argument the event type does not have, or a
// value its table cannot read, fails the test at its position.
func TestArgumentErrors(t *testing.T) {
	for src, want := range map[string]string{
		"tests:\n  - name: a\n    event: {evt.type: unlinkat, evt.arg.nope: x}\n    fire: [r]\n":                                   `f.yaml:3:47: evt.arg.nope: unlinkat has no argument "nope" a fixture can set (it can set: dirfd, flags, name)`,
		"tests:\n  - name: a\n    event: {evt.type: unlinkat, evt.arg.flags: O_BOGUS}\n    fire: [r]\n":                            `f.yaml:3:48: evt.arg.flags: "O_BOGUS" is not a value of unlinkat's flags`,
		"tests:\n  - name: a\n    event: {evt.type: connect, evt.arg.flags: O_RDONLY}\n    fire: [r]\n":                            `connect has no argument "flags" a fixture can set (it can set: none)`,
		"tests:\n  - name: a\n    event: {evt.type: openat, evt.arg.flags: AT_REMOVEDIR}\n    fire: [r]\n":                         `unknown open flag "AT_REMOVEDIR"`,
		"tests:\n  - name: a\n    event: {evt.type: execve, container.mounts: [relative:/x]}\n    fire: [r]\n":                     `"relative:/x" is not SOURCE:DEST with absolute paths`,
		"tests:\n  - name: a\n    event: {evt.type: connect, proc.stdin.type: ipv4}\n    fire: [r]\n":                              `describe an exec's record: set them on execve or execveat`,
		"tests:\n  - name: a\n    event: {evt.type: execve, proc.stdout.type: tty}\n    fire: [r]\n":                               `proc.stdout.type: "tty" is not one of file, directory, pipe, ipv4, ipv6, unix`,
		"tests:\n  - name: a\n    event: {evt.type: execve, proc.stdin.rip: 10.0.0.1, proc.stdout.rip: 10.0.0.2}\n    fire: [r]\n": `the exec record holds one socket's ends, and another fd has 10.0.0.1`,
	} {
		f, err := Parse("f.yaml", []byte(src))
		if err == nil {
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
