package main

import (
	"math"
	"os"
	"strings"
	"testing"
)

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The stress-ng YAML was written by stress-ng 0.15.06 (Debian 12) running
// the exec stressor on this machine.
func TestParseStressNGYAML(t *testing.T) {
	m, err := parseStressNGYAML(readTestdata(t, "stress-ng-exec.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 {
		t.Fatalf("stressors = %v, want only exec", m)
	}
	got := m["exec"]
	if got.ops != 40 || got.opsPerSec != 9.975381 {
		t.Fatalf("exec = %+v, want 40 ops at 9.975381/s", got)
	}
}

func TestParseStressNGYAMLErrors(t *testing.T) {
	for name, text := range map[string]string{
		"bad number":  "metrics:\n    - stressor: open\n      bogo-ops: x\n      bogo-ops-per-second-real-time: 3\n",
		"missing key": "metrics:\n    - stressor: open\n      bogo-ops: 4\n",
		"no name":     "metrics:\n    - stressor:\n",
	} {
		if _, err := parseStressNGYAML(text); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// Keys outside the metrics section are not the stressor's.
	m, err := parseStressNGYAML("system-info:\n      bogo-ops: 9\n")
	if err != nil || len(m) != 0 {
		t.Fatalf("got %v, %v; want nothing", m, err)
	}
}

// The wrk output is wrk 4.1.0 (Debian 12) against nginx on 127.0.0.1.
func TestParseWrk(t *testing.T) {
	w, err := parseWrk(readTestdata(t, "wrk.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if w.requests != 21069 || w.reqPerSec != 10253.21 || w.p99Ns != 20.55e6 {
		t.Fatalf("got %+v, want 21069 requests, 10253.21/s, p99 20.55 ms", w)
	}
	if _, err := parseWrk(strings.Replace(readTestdata(t, "wrk.txt"), "99%", "98%", 1)); err == nil {
		t.Fatal("output without the 99% line: no error")
	}
}

func TestParseWrkDuration(t *testing.T) {
	for in, want := range map[string]float64{"512.00us": 512e3, "1.23ms": 1.23e6, "2.00s": 2e9, "1.50m": 90e9} {
		d, err := parseWrkDuration(in)
		if err != nil || math.Abs(float64(d.Nanoseconds())-want) > 1 {
			t.Errorf("%s = %v, %v; want %v ns", in, d, err, want)
		}
	}
	for _, in := range []string{"", "ms", "-1ms", "3parsecs"} {
		if _, err := parseWrkDuration(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

// The Go benchmark output is from the packages the report collects.
func TestParseGoBench(t *testing.T) {
	bs, err := parseGoBench(readTestdata(t, "gobench.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) < 10 {
		t.Fatalf("parsed %d benchmarks, want the file's", len(bs))
	}
	first := bs[0]
	if first.Package != "github.com/vigilsec/vigil/internal/decode" || first.Name != "BenchmarkDecodeExec" ||
		first.NsPerOp != 203.2 || first.BPerOp != 0 || first.Allocs != 0 || !first.HasAlloc {
		t.Fatalf("first = %+v", first)
	}
	var fdsOn goBench
	for _, b := range bs {
		if b.Name == "BenchmarkDecodeApplyOpen/fds=on" {
			fdsOn = b
		}
	}
	if fdsOn.NsPerOp != 2159 || fdsOn.BPerOp != 304 || fdsOn.Allocs != 3 {
		t.Fatalf("fds=on = %+v, want 2159 ns, 304 B, 3 allocs", fdsOn)
	}
	if _, err := parseGoBench("BenchmarkX-2 10 abc ns/op\n"); err == nil {
		t.Fatal("malformed ns/op: no error")
	}
}

// The metrics are a scrape of `vigil run --metrics-addr` with truth.yaml.
func TestParsePromText(t *testing.T) {
	ps, err := parsePromText(readTestdata(t, "metrics.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := ps.sum("vigil_rule_matches_total", map[string]string{"rule": "bench truth open"}); !ok || v != 35302 {
		t.Fatalf("bench truth open = %v, %v; want 35302", v, ok)
	}
	if v := ps.value("vigil_alerts_total", map[string]string{"outcome": "dropped"}); v != 2329 {
		t.Fatalf("dropped alerts = %v, want 2329", v)
	}
	if _, ok := ps.sum("vigil_no_such_metric", nil); ok {
		t.Fatal("a metric that is not there was found")
	}
	got, err := parsePromText(`m{a="x\"y",b="z"} 3` + "\n" + `m{a="w"} 4.5`)
	if err != nil {
		t.Fatal(err)
	}
	if v := got.value("m", nil); v != 7.5 {
		t.Fatalf("sum of m = %v, want 7.5", v)
	}
	if v := got.value("m", map[string]string{"a": `x"y`}); v != 3 {
		t.Fatalf("escaped label: %v, want 3", v)
	}
	for _, bad := range []string{"m{a=\"x} 1", "m{a} 1", "m{a=\"x\"}", "m notanumber", "{a=\"b\"} 1"} {
		if _, err := parsePromText(bad); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%q: err = %v, want one naming line 1", bad, err)
		}
	}
}

// The bpftrace output is lowerbound.bt's exit print on this machine.
func TestParseBpftraceMaps(t *testing.T) {
	maps, err := parseBpftraceMaps(readTestdata(t, "bpftrace-exit.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if maps["exec"]["vigil-workload"] != 20 || maps["connect"]["vigil-workload"] != 200 || maps["open"]["vigil-workload"] != 65 {
		t.Fatalf("vigil-workload counts: exec %v connect %v open %v", maps["exec"]["vigil-workload"],
			maps["connect"]["vigil-workload"], maps["open"]["vigil-workload"])
	}
	for _, bad := range []string{"@x[a: 1", "@x[a]: many", "@x"} {
		if _, err := parseBpftraceMaps(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// The audit records are from auditd 3.0.9 with audit.rules during a run.
func TestCountAuditRecords(t *testing.T) {
	text := readTestdata(t, "audit.log")
	n, c := countAuditRecords(strings.NewReader(text + "type=SYSCALL partial"))
	if n != int64(len(text)) {
		t.Fatalf("consumed %d bytes, want %d (the partial line is left for later)", n, len(text))
	}
	if c.total != 6 || c.exec != 2 || c.connect != 2 {
		t.Fatalf("counts = %+v, want 6 keyed SYSCALL records, 2 execs of true, 2 connects of vigil-workload", c)
	}
}

func TestParseAuditStatus(t *testing.T) {
	st := parseAuditStatus("enabled 1\nfailure 1\npid 4242\nlost 17\nloginuid_immutable 0 unlocked\n")
	if st["enabled"] != 1 || st["pid"] != 4242 || st["lost"] != 17 || st["loginuid_immutable"] != 0 {
		t.Fatalf("status = %v", st)
	}
}
