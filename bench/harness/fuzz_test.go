package main

import (
	"strings"
	"testing"
)

// The fuzzers check that no input makes a parser panic, and that what a
// parser accepts is consistent.

func FuzzParsePromText(f *testing.F) {
	f.Add("# HELP x\nvigil_events_received_total 12\nvigil_rule_matches_total{rule=\"a \\\"b\\\"\"} 3\n")
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := parsePromText(s)
		if err == nil && len(ps) > strings.Count(s, "\n")+1 {
			t.Fatalf("%d samples from %d lines", len(ps), strings.Count(s, "\n")+1)
		}
	})
}

func FuzzParseWrk(f *testing.F) {
	f.Add("  19306 requests in 3.01s, 11.63MB read\nRequests/sec:   6421.35\n     99%   10.77ms\n")
	f.Fuzz(func(t *testing.T, s string) {
		if w, err := parseWrk(s); err == nil && w.p99Ns < 0 {
			t.Fatalf("negative p99 from %q", s)
		}
	})
}

func FuzzParseStressNGYAML(f *testing.F) {
	f.Add("metrics:\n    - stressor: exec\n      bogo-ops: 40\n      bogo-ops-per-second-real-time: 9.9\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseStressNGYAML(s) // only that it does not panic
	})
}

func FuzzParseGoBench(f *testing.F) {
	f.Add("pkg: x\nBenchmarkA-2 \t 100\t 12.5 ns/op\t 3 B/op\t 1 allocs/op\n")
	f.Fuzz(func(t *testing.T, s string) {
		bs, err := parseGoBench(s)
		if err == nil && len(bs) > strings.Count(s, "Benchmark") {
			t.Fatalf("%d results from %q", len(bs), s)
		}
	})
}

func FuzzParseBpftraceMaps(f *testing.F) {
	f.Add("Attaching 7 probes...\n@open[vigil-workload]: 65\n@n: 3\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseBpftraceMaps(s) // only that it does not panic
	})
}
