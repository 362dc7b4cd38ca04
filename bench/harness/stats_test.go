package main

import (
	"math"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	odd := summarize([]float64{3, 1, 2})
	if odd.Median != 2 || odd.Min != 1 || odd.Max != 3 || odd.N != 3 {
		t.Fatalf("odd = %+v", odd)
	}
	even := summarize([]float64{4, 1, math.NaN(), 2, 3})
	if even.Median != 2.5 || even.N != 4 {
		t.Fatalf("even (NaN dropped) = %+v", even)
	}
	if s := summarize(nil); s.ok() {
		t.Fatalf("empty = %+v, want not ok", s)
	}
}

func TestCompareFlagsOnlyBeyondSpread(t *testing.T) {
	sp := func(med, lo, hi float64) spread { return spread{Median: med, Min: lo, Max: hi, N: 5} }
	prev := summary{Slowdown: map[string]map[string]spread{"vigil-default": {
		"open_close": sp(1.20, 1.10, 1.30), // noise ±0.10
		"fork_exec":  sp(1.05, 1.04, 1.06),
		"getpid":     sp(1.30, 1.25, 1.35),
	}}}
	cur := summary{Slowdown: map[string]map[string]spread{"vigil-default": {
		"open_close": sp(1.28, 1.20, 1.36), // +0.08: within the spread
		"fork_exec":  sp(1.25, 1.22, 1.28), // +0.20: worse
		"getpid":     sp(1.10, 1.08, 1.12), // -0.20: better
		"connect":    sp(1.00, 1.00, 1.00), // nothing to compare with
	}}}
	got := map[string]string{}
	for _, r := range compare(prev, cur) {
		got[r.Workload] = r.Verdict
	}
	want := map[string]string{"open_close": "same (within spread)", "fork_exec": "**worse**", "getpid": "better"}
	if len(got) != len(want) {
		t.Fatalf("verdicts = %v, want %v", got, want)
	}
	for w, v := range want {
		if got[w] != v {
			t.Errorf("%s: %q, want %q", w, got[w], v)
		}
	}
}

// The report pairs each repetition with the baseline of the same
// repetition and phase.
func TestReportPairsRepetitions(t *testing.T) {
	run := func(cfg string, rep int, thr float64) measurement {
		return measurement{Config: cfg, Workload: "w", Rep: rep,
			Result: workloadResult{Ops: 100, Throughput: thr}, Agent: agentUsage{CPU: time.Millisecond}}
	}
	r := &report{Reps: 2, Runs: []measurement{
		run("none", 1, 100), run("vigil-default", 1, 50),
		run("none", 2, 200), run("vigil-default", 2, 160),
		run("none (audit reset)", 1, 10), run("auditd", 1, 5),
	}}
	s := r.perRep("vigil-default", "w", slowdown)
	if s.N != 2 || s.Min != 1.25 || s.Max != 2 {
		t.Fatalf("vigil slowdown = %+v, want 1.25 and 2", s)
	}
	if a := r.perRep("auditd", "w", slowdown); a.N != 1 || a.Median != 2 {
		t.Fatalf("auditd slowdown = %+v, want 2 against its own baseline", a)
	}
	if c := r.perRep("vigil-default", "w", cpuPerOp); c.Median != 1e4 {
		t.Fatalf("cpu per op = %+v, want 10000 ns", c)
	}
}

func TestAlternate(t *testing.T) {
	as := []agent{noAgent{label: "a"}, noAgent{label: "b"}, noAgent{label: "c"}}
	names := func(rep int) (s string) {
		for _, a := range alternate(as, rep) {
			s += a.name()
		}
		return s
	}
	if names(1) != "abc" || names(2) != "cba" || names(3) != "abc" {
		t.Fatalf("orders: %s %s %s", names(1), names(2), names(3))
	}
}
