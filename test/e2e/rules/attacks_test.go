package rules_test

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/vigilsec/vigil/internal/detect"
)

// attack is one proof of a rule: run performs the behaviour for real
// and says what the alert must show.
type attack struct {
	rule     string
	priority string
	// variant tells apart two attacks on one rule (two branches of its
	// condition); empty for the first.
	variant string
	// tool is the program that performs the attack: the real one, or the
	// stand-in (and why) where none can be had here.
	tool string
	run  func(t *testing.T, ag *agent, m string) result
}

func (a attack) name() string {
	if a.variant == "" {
		return a.rule
	}
	return a.rule + ", " + a.variant
}

// result is what the attack's one alert must show.
type result struct {
	match string // a string only this attack's alert output contains (the marker, mostly)
	// narrow is a second string the alert's output must contain, when the
	// attack's one action raises the rule more than once (once per syscall).
	narrow string
	name   string                             // proc.name
	exe    string                             // context.process.exepath
	pid    int                                // proc.pid, when the test knows it
	user   string                             // user.name; empty means root
	in     *workload                          // the container; nil on the host
	fields map[string]string                  // output fields of the object acted on, as wireAlert.field renders them
	check  func(t *testing.T, got *wireAlert) // further checks of the alert, if any
}

// attacks is every attack of the suite, in the order of the rule files.
var attacks = slices.Concat(executionAttacks, credentialAttacks, persistenceAttacks, escalationAttacks,
	evasionAttacks, discoveryAttacks, controlAttacks, tamperingAttacks, integrityAttacks, experimentalAttacks,
	coverageExecutionAttacks, coverageEscalationAttacks, coverageEvasionAttacks, coverageControlAttacks)

// TestAttacks performs an attack on every stable rule through `vigil
// run` with the embedded stable rules and its default configuration, and
// checks each alert exactly. It fails listing the rules that have no
// passing attack.
func TestAttacks(t *testing.T) { runPass(t, false) }

// TestExperimentalAttacks does the same for the experimental rules
// through a second agent, `vigil run --experimental`, started after the
// stable one has stopped.
func TestExperimentalAttacks(t *testing.T) { runPass(t, true) }

// ruleInfo is what the suite knows of the embedded rules, as the vigil
// binary built from the same tree embeds them.
type ruleInfo struct {
	stable, experimental []string            // enabled rules of each set, in order
	fields               map[string][]string // the output fields of each rule, sorted
}

var rulesOnce = sync.OnceValues(func() (*ruleInfo, error) {
	stable, err := detect.Load(detect.LoadOptions{})
	if err != nil {
		return nil, err
	}
	all, err := detect.Load(detect.LoadOptions{Experimental: true, Strict: true})
	if err != nil {
		return nil, err
	}
	if len(all.Diagnostics) > 0 {
		return nil, fmt.Errorf("default rules have diagnostics:\n%s", all.Diagnostics)
	}
	info := &ruleInfo{fields: map[string][]string{}}
	inStable := map[string]bool{}
	for _, r := range stable.Program.Rules() {
		inStable[r.Name] = r.Enabled
	}
	for _, r := range all.Program.Rules() {
		if !r.Enabled {
			continue
		}
		if inStable[r.Name] {
			info.stable = append(info.stable, r.Name)
		} else {
			info.experimental = append(info.experimental, r.Name)
		}
		for _, p := range r.Output.Placeholders() {
			info.fields[r.Name] = append(info.fields[r.Name], p.Name)
		}
		sort.Strings(info.fields[r.Name])
	}
	return info, nil
})

// runPass starts the agent of one pass, runs the pass's attacks in
// parallel, and at the end lists every rule with the tool of its attack
// and fails for the rules without a passing attack. A rule counts as
// covered only when each of its attacks' subtests passed.
func runPass(t *testing.T, experimental bool) {
	requireBuilt(t)
	info, err := rulesOnce()
	if err != nil {
		t.Fatal(err)
	}
	set, kind := info.stable, "stable"
	if experimental {
		set, kind = info.experimental, "experimental"
	}
	var mine []attack
	for _, a := range attacks {
		switch {
		case slices.Contains(set, a.rule):
			mine = append(mine, a)
		case !slices.Contains(info.stable, a.rule) && !slices.Contains(info.experimental, a.rule):
			t.Errorf("attack on %q, which is no enabled default rule", a.rule)
		}
	}
	ag := startAgent(t, experimental)

	var mu sync.Mutex
	passed := map[string]int{} // attacks that passed, by rule
	t.Cleanup(func() {
		var lines, missing []string
		for _, a := range mine {
			status := "FAIL"
			if passed[a.name()] > 0 {
				status = "pass"
			}
			lines = append(lines, fmt.Sprintf("  [%s] %s -> %s", status, a.name(), a.tool))
		}
		t.Logf("%s rules and the tools of their attacks:\n%s", kind, strings.Join(lines, "\n"))
		for _, rule := range set {
			ok := false
			for _, a := range mine {
				if a.rule == rule {
					ok = passed[a.name()] > 0
					if !ok {
						break
					}
				}
			}
			if !ok {
				missing = append(missing, rule)
			}
		}
		if len(missing) == 0 {
			return
		}
		if runsSubset() {
			t.Logf("-run selects some attacks only: %d %s rules not proven in this run", len(missing), kind)
			return
		}
		t.Errorf("%d %s rules without a passing attack:\n  %s", len(missing), kind, strings.Join(missing, "\n  "))
	})
	for _, a := range mine {
		t.Run(a.name(), func(t *testing.T) {
			t.Parallel()
			t.Cleanup(func() {
				if !t.Failed() && !t.Skipped() {
					mu.Lock()
					passed[a.name()]++
					mu.Unlock()
				}
			})
			t.Logf("tool: %s", a.tool)
			m := newMarker()
			r := a.run(t, ag, m)
			if !ag.waitFor(a.rule, r.match, r.narrow) {
				t.Fatalf("%q did not fire for %q within %s", a.rule, r.match, alertWait)
			}
			got := ag.exactlyOne(t, a.rule, r.match, r.narrow)
			checkAlert(t, got, a, r, info.fields[a.rule])
			if r.check != nil {
				r.check(t, got)
			}
			t.Logf("%s: %s", got.Rule, got.Output)
		})
	}
}

// runsSubset reports whether -run names subtests, so that only some
// attacks run.
func runsSubset() bool {
	f := flag.Lookup("test.run")
	return f != nil && strings.Contains(f.Value.String(), "/")
}

// checkAlert compares the alert with what the attack said it must show.
func checkAlert(t *testing.T, got *wireAlert, a attack, r result, fields []string) {
	t.Helper()
	if got.Priority != a.priority {
		t.Errorf("priority %s, want %s", got.Priority, a.priority)
	}
	if got.Source != "syscall" {
		t.Errorf("source %q, want syscall", got.Source)
	}
	if host, _ := os.Hostname(); got.Hostname != host {
		t.Errorf("hostname %q, want %q", got.Hostname, host)
	}
	if len(got.Tags) == 0 {
		t.Error("no tags")
	}
	// output_fields: the rule's fields, the event time Falco always adds,
	// and Vigil's own vigil.* fields (the context, for routers that keep
	// only Falco's keys).
	var keys []string
	for k := range got.OutputFields {
		if !strings.HasPrefix(k, "vigil.") || slices.Contains(fields, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if want := slices.Sorted(slices.Values(append([]string{"evt.time"}, fields...))); !slices.Equal(keys, want) {
		t.Errorf("output_fields has %v, want %v (the rule's output fields and evt.time)", keys, want)
	}
	if anc := fmt.Sprint(got.OutputFields["vigil.proc.ancestors"]); anc != fmt.Sprint(toAny(got.Context.Process.Ancestors)) {
		t.Errorf("vigil.proc.ancestors %s, context.process.ancestors %v", anc, got.Context.Process.Ancestors)
	}
	want := map[string]string{"proc.name": r.name, "proc.cmdline": got.Context.Process.Cmdline,
		"proc.pid": fmt.Sprint(got.Context.Process.PID), "user.name": orDefault(r.user, "root"), "container.id": "host"}
	id := got.Context.Identity
	ctx := map[string][2]string{"exepath": {got.Context.Process.ExePath, r.exe}, "user": {id.User, orDefault(r.user, "root")},
		"container_id": {id.ContainerID, "host"}}
	if r.pid != 0 {
		want["proc.pid"] = fmt.Sprint(r.pid)
	}
	if w := r.in; w != nil {
		want["container.id"], want["container.name"], want["container.image.repository"] = w.id[:12], w.name, "vigil-test/busybox"
		ctx["container_id"], ctx["container_name"], ctx["image"] = [2]string{id.ContainerID, w.id[:12]},
			[2]string{id.ContainerName, w.name}, [2]string{id.Image, image}
		if w.pod != "" {
			want["k8s.pod.name"], want["k8s.ns.name"] = w.pod, w.ns
			ctx["k8s_pod"], ctx["k8s_ns"] = [2]string{id.Pod, w.pod}, [2]string{id.Namespace, w.ns}
		}
	}
	for k, v := range r.fields {
		want[k] = v
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got := got.field(k); got != want[k] {
			t.Errorf("output field %s = %q, want %q", k, got, want[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(ctx)) {
		if v := ctx[k]; v[0] != v[1] {
			t.Errorf("context %s = %q, want %q", k, v[0], v[1])
		}
	}
	if r.name == "" || r.exe == "" {
		t.Errorf("the attack must say which process acts (name %q, exe %q)", r.name, r.exe)
	}
}

// toAny is ss as JSON decodes a list of strings.
func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
