package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/testutil"
)

func ruleYAML(name, cond, output string) string {
	return fmt.Sprintf("- rule: %s\n  desc: reload test\n  condition: %s\n  output: %q\n  priority: warning\n\n", name, cond, output)
}

// alertLog collects alerts by the path they name.
type alertLog struct {
	mu     sync.Mutex
	byPath map[string][]string // fd.name or evt.arg.path -> rules, in order
	byRule map[string]int
}

func collect(a *liveAgent) *alertLog {
	l := &alertLog{byPath: map[string][]string{}, byRule: map[string]int{}}
	go func() {
		for m := range a.alerts {
			rule, _ := m["rule"].(string)
			f, _ := m["output_fields"].(map[string]any)
			path, _ := f["fd.name"].(string)
			if p, ok := f["evt.arg.path"].(string); ok {
				path = p
			}
			l.mu.Lock()
			l.byPath[path] = append(l.byPath[path], rule)
			l.byRule[rule]++
			l.mu.Unlock()
		}
	}()
	return l
}

func (l *alertLog) rules(path string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.byPath[path]...)
}

func (l *alertLog) count(rule string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byRule[rule]
}

// waitFor polls cond until it holds, failing after a generous wait.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestRunReloadOnSIGHUP and TestRunReloadOnFileChange rewrite the rule
// file while a workload keeps creating trigger files, and check that the
// reload took effect without losing an event: every trigger gets exactly
// one alert, from the old rule or the new one, and every trigger created
// after the reload from the new one; a rule on a syscall the kernel was
// not capturing fires once the reload widened the filter.
func TestRunReloadOnSIGHUP(t *testing.T)     { testReload(t, true) }
func TestRunReloadOnFileChange(t *testing.T) { testReload(t, false) }

func testReload(t *testing.T, viaSignal bool) {
	testutil.RequireBPF(t)
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	trig, mk := filepath.Join(dir, "trig-"), filepath.Join(dir, "mk-")
	onTrigger := "evt.type = openat and fd.name startswith " + trig
	write(t, rules, ruleYAML("Reload old", onTrigger, "old %fd.name"))
	a := startAgent(t, []string{"VIGIL_RELOAD_DEBOUNCE=100ms", fmt.Sprintf("VIGIL_RELOAD_WATCH=%v", !viaSignal)},
		"--rules", rules, "--metrics-addr", "127.0.0.1:0")
	if a.findLog(0, `msg="running 1 rules" syscalls=openat `) < 0 {
		t.Fatal("the kernel filter does not start as openat alone")
	}
	log := collect(a)

	// The workload: one trigger file after another, each one openat.
	var issued atomic.Int64
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := os.WriteFile(fmt.Sprintf("%s%06d", trig, i), nil, 0o644); err != nil {
				t.Error(err) // not Fatal: this is not the test's goroutine
				return
			}
			issued.Store(int64(i + 1))
			time.Sleep(500 * time.Microsecond)
		}
	}()
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		<-stopped
	}()
	waitFor(t, "alerts from the old rule", func() bool { return log.count("Reload old") >= 50 })
	mkdir(t, mk+"0") // no rule, not even captured yet

	next := ruleYAML("Reload new", onTrigger, "new %fd.name") +
		ruleYAML("Reload mkdir", "evt.type = mkdirat and evt.arg.path startswith "+mk, "mkdir %evt.arg.path")
	cursor := a.logCount()
	if viaSignal {
		write(t, rules, next)
		a.signal(syscall.SIGHUP)
	} else {
		// As editors save: write a new file and rename it over the old.
		tmp := rules + ".swp"
		write(t, tmp, next)
		if err := os.Rename(tmp, rules); err != nil {
			t.Fatal(err)
		}
	}
	trigger := "trigger=SIGHUP"
	if !viaSignal {
		trigger = `trigger="file change: ` + rules + `"`
	}
	a.waitLog(cursor, `msg="reload succeeded"`, trigger, "rules=2", "syscalls=mkdirat,openat ")
	// Triggers numbered after this were created after the swap.
	after := issued.Load() + 1
	mkdir(t, mk+"1")
	waitFor(t, "alerts from the new rule", func() bool { return log.count("Reload new") >= 50 })
	close(stop)
	<-stopped
	n := issued.Load()
	write(t, trig+"sentinel", "")
	waitFor(t, "the sentinel's alert", func() bool { return len(log.rules(trig+"sentinel")) > 0 })

	old, nw := 0, 0
	for i := range n {
		path := fmt.Sprintf("%s%06d", trig, i)
		got := log.rules(path)
		switch {
		case len(got) != 1:
			t.Errorf("%s: alerts %v, want exactly one", path, got)
		case got[0] == "Reload old" && i >= after:
			t.Errorf("%s (after the reload) alerted by the removed rule", path)
		case got[0] == "Reload old":
			old++
		case got[0] == "Reload new":
			nw++
		default:
			t.Errorf("%s: rule %s", path, got[0])
		}
	}
	if old < 50 || nw < 50 {
		t.Errorf("%d triggers: %d alerts from the old rule, %d from the new", n, old, nw)
	}
	if got := log.rules(mk + "0"); len(got) != 0 {
		t.Errorf("mkdir before the reload alerted: %v", got)
	}
	if got := log.rules(mk + "1"); len(got) != 1 || got[0] != "Reload mkdir" {
		t.Errorf("mkdir after the reload: alerts %v", got)
	}
	t.Logf("%d triggers across the reload: %d old, %d new", n, old, nw)

	total := float64(old + nw + 2) // the sentinel and the mkdir
	for series, want := range map[string]float64{
		`vigil_reload_total{result="success"}`:             1,
		`vigil_reload_total{result="failure"}`:             0,
		`vigil_rules_loaded`:                               2,
		`vigil_kernel_filter_syscalls{syscall="mkdirat"}`:  1,
		`vigil_kernel_filter_syscalls{syscall="openat"}`:   1,
		`vigil_rule_matches_total{rule="Reload new"}`:      float64(nw + 1),
		`vigil_rule_matches_total{rule="Reload mkdir"}`:    1,
		`vigil_rule_matches_total{rule="Reload old"}`:      -1, // removed: no series
		`vigil_pipeline_latency_seconds_count`:             total,
		`vigil_pipeline_latency_seconds_bucket{le="+Inf"}`: total,
		`vigil_alerts_total{outcome="emitted"}`:            total,
	} {
		if got := a.metric(series); got != want {
			t.Errorf("%s = %g, want %g", series, got, want)
		}
	}
	if ts := a.metric("vigil_reload_last_success_timestamp_seconds"); ts < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last success %g", ts)
	}
}

// TestRunInvalidReloadKeepsRules breaks the rule file and sends SIGHUP:
// the error is logged at its file:line:col, the failure is counted, and
// the old rule still fires.
func TestRunInvalidReloadKeepsRules(t *testing.T) {
	testutil.RequireBPF(t)
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	trig := filepath.Join(dir, "trig-")
	write(t, rules, ruleYAML("Kept", "evt.type = openat and fd.name startswith "+trig, "kept %fd.name"))
	a := startAgent(t, []string{"VIGIL_RELOAD_WATCH=false"}, "--rules", rules, "--metrics-addr", "127.0.0.1:0")
	log := collect(a)
	write(t, trig+"0", "")
	waitFor(t, "the first alert", func() bool { return len(log.rules(trig+"0")) == 1 })

	// Line 3, column 36 is the second "and".
	write(t, rules, ruleYAML("Broken", "evt.type = openat and and fd.name startswith "+trig, "x"))
	cursor := a.logCount()
	a.signal(syscall.SIGHUP)
	a.waitLog(cursor, "level=ERROR", `msg="reload: rule error"`, "at="+rules+":3:36", `message="rule \"Broken\": expected a condition, found 'and'"`)
	a.waitLog(cursor, "level=ERROR", `msg="reload failed; the running rules and configuration stay"`, `trigger=SIGHUP`,
		`error="`+rules+`:3:36: error: rule \"Broken\": expected a condition, found 'and'"`)

	write(t, trig+"1", "")
	waitFor(t, "an alert after the failed reload", func() bool { return len(log.rules(trig+"1")) == 1 })
	if got := log.rules(trig + "1"); got[0] != "Kept" {
		t.Errorf("rule %v", got)
	}
	for series, want := range map[string]float64{
		`vigil_reload_total{result="success"}`:    0,
		`vigil_reload_total{result="failure"}`:    1,
		`vigil_rules_loaded`:                      1,
		`vigil_rule_matches_total{rule="Kept"}`:   2,
		`vigil_rule_matches_total{rule="Broken"}`: -1,
		`vigil_pipeline_latency_seconds_count`:    2,
		`vigil_alerts_total{outcome="emitted"}`:   2,
	} {
		if got := a.metric(series); got != want {
			t.Errorf("%s = %g, want %g", series, got, want)
		}
	}
	if strings.Contains(strings.Join(a.lines(), "\n"), `msg="reload succeeded"`) {
		t.Error("a broken rule file reloaded")
	}
}

// TestRunReloadOutputs changes the file output's path and a key that
// needs a restart in the configuration file: after SIGHUP, alerts go to
// the new file, the restart key is reported, and the output's counter
// carries over.
func TestRunReloadOutputs(t *testing.T) {
	testutil.RequireBPF(t)
	dir := t.TempDir()
	rules, cfg := filepath.Join(dir, "rules.yaml"), filepath.Join(dir, "vigil.yaml")
	first, second := filepath.Join(dir, "first.json"), filepath.Join(dir, "second.json")
	trig := filepath.Join(dir, "trig-")
	write(t, rules, ruleYAML("To file", "evt.type = openat and fd.name startswith "+trig, "file %fd.name"))
	cfgYAML := func(path string, shards int) string {
		return fmt.Sprintf("rules: [%s]\nshards: %d\nreload:\n  watch: false\noutputs:\n  stdout:\n    enabled: false\n  file:\n    enabled: true\n    path: %s\n",
			rules, shards, path)
	}
	write(t, cfg, cfgYAML(first, 2))
	a := startAgent(t, nil, "--config", cfg, "--metrics-addr", "127.0.0.1:0")
	lines := func(path string) string { b, _ := os.ReadFile(path); return string(b) }
	write(t, trig+"0", "")
	waitFor(t, "the alert in the first file", func() bool { return strings.Contains(lines(first), trig+"0") })

	write(t, cfg, cfgYAML(second, 3))
	cursor := a.logCount()
	a.signal(syscall.SIGHUP)
	a.waitLog(cursor, `msg="reload succeeded"`, "outputs_rebuilt=true")
	a.waitLog(cursor, "level=WARN", `msg="reload: configuration key changed; it takes effect on restart"`, "key=shards")
	write(t, trig+"1", "")
	waitFor(t, "the alert in the second file", func() bool { return strings.Contains(lines(second), trig+"1") })
	if strings.Contains(lines(first), trig+"1") || strings.Count(lines(first), "\n") != 1 {
		t.Errorf("first file after the reload:\n%s", lines(first))
	}
	if got := a.metric(`vigil_output_alerts_total{outcome="sent",output="file"}`); got != 2 {
		t.Errorf("file output sent %g, want 2 across the reload", got)
	}
}
