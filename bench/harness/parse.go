package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// stressMetrics is one stressor's line of stress-ng's --yaml metrics.
type stressMetrics struct {
	ops, opsPerSec float64
}

// parseStressNGYAML reads the metrics section of stress-ng's --yaml
// output: a list of maps, each starting with "- stressor: NAME". Only the
// keys the harness needs are read; a stressor without them is an error.
func parseStressNGYAML(text string) (map[string]stressMetrics, error) {
	out := map[string]stressMetrics{}
	inMetrics := false
	cur := ""
	seen := map[string]int{}
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimRight(raw, " \r")
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, " ") {
			inMetrics = line == "metrics:"
			cur = ""
			continue
		}
		if !inMetrics {
			continue
		}
		item := strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(item, "- stressor:"); ok {
			cur = strings.TrimSpace(v)
			if cur == "" {
				return nil, fmt.Errorf("stress-ng yaml line %d: stressor without a name", i+1)
			}
			out[cur] = stressMetrics{}
			continue
		}
		key, val, ok := strings.Cut(item, ":")
		if !ok || cur == "" {
			continue
		}
		var dst *float64
		m := out[cur]
		switch strings.TrimSpace(key) {
		case "bogo-ops":
			dst = &m.ops
		case "bogo-ops-per-second-real-time":
			dst = &m.opsPerSec
		default:
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			return nil, fmt.Errorf("stress-ng yaml line %d: %s: %w", i+1, key, err)
		}
		*dst = v
		out[cur] = m
		seen[cur]++
	}
	for name := range out {
		if seen[name] < 2 {
			return nil, fmt.Errorf("stress-ng yaml: stressor %s lacks bogo-ops or bogo-ops-per-second-real-time", name)
		}
	}
	return out, nil
}

// wrkResult is what the harness reads from `wrk --latency`.
type wrkResult struct {
	requests, reqPerSec, p99Ns float64
}

// parseWrk reads wrk's summary: "N requests in ...", "Requests/sec: X"
// and the 99% line of the latency distribution.
func parseWrk(text string) (wrkResult, error) {
	var r wrkResult
	var haveReq, haveRate, haveP99 bool
	for _, raw := range strings.Split(text, "\n") {
		f := strings.Fields(raw)
		switch {
		case len(f) >= 3 && f[1] == "requests" && f[2] == "in":
			v, err := strconv.ParseFloat(f[0], 64)
			if err != nil {
				return r, fmt.Errorf("wrk: requests %q: %w", f[0], err)
			}
			r.requests, haveReq = v, true
		case len(f) == 2 && f[0] == "Requests/sec:":
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return r, fmt.Errorf("wrk: Requests/sec %q: %w", f[1], err)
			}
			r.reqPerSec, haveRate = v, true
		case len(f) == 2 && f[0] == "99%":
			d, err := parseWrkDuration(f[1])
			if err != nil {
				return r, fmt.Errorf("wrk: 99%% latency: %w", err)
			}
			r.p99Ns, haveP99 = float64(d.Nanoseconds()), true
		}
	}
	if !haveReq || !haveRate || !haveP99 {
		return r, fmt.Errorf("wrk: output lacks the request count, Requests/sec or the 99%% latency (run with --latency)")
	}
	return r, nil
}

// parseWrkDuration reads wrk's latencies: 512.00us, 1.23ms, 2.00s, 1.50m.
func parseWrkDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		scale  float64
	}{{"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil || v < 0 {
				return 0, fmt.Errorf("bad duration %q", s)
			}
			return time.Duration(v * u.scale), nil
		}
	}
	return 0, fmt.Errorf("bad duration %q", s)
}

// goBench is one line of `go test -bench -benchmem` output.
type goBench struct {
	Package  string
	Name     string
	NsPerOp  float64
	BPerOp   float64
	Allocs   float64
	HasAlloc bool
}

// parseGoBench reads `go test -bench` output: "pkg:" lines set the package
// of the Benchmark lines after them. Lines that are not results are
// skipped; a Benchmark line with a malformed figure is an error.
func parseGoBench(text string) ([]goBench, error) {
	var out []goBench
	pkg := ""
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if v, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(v)
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || f[3] != "ns/op" {
			continue // a benchmark's own log line, or a skip
		}
		b := goBench{Package: pkg, Name: f[0]}
		if j := strings.LastIndexByte(b.Name, '-'); j > 0 {
			if _, err := strconv.Atoi(b.Name[j+1:]); err == nil {
				b.Name = b.Name[:j] // the GOMAXPROCS suffix
			}
		}
		var err error
		if b.NsPerOp, err = strconv.ParseFloat(f[2], 64); err != nil {
			return nil, fmt.Errorf("go bench line %d: ns/op %q: %w", i+1, f[2], err)
		}
		for k := 4; k+1 < len(f); k += 2 {
			v, err := strconv.ParseFloat(f[k], 64)
			if err != nil {
				continue // a custom metric this report does not use
			}
			switch f[k+1] {
			case "B/op":
				b.BPerOp = v
			case "allocs/op":
				b.Allocs, b.HasAlloc = v, true
			}
		}
		out = append(out, b)
	}
	return out, nil
}
