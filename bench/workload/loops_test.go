package main

import (
	"testing"
	"time"
)

// Each loop makes exactly the events its truth counts say, since the
// harness checks agents against them.
func TestLoopsReportTheirGroundTruth(t *testing.T) {
	want := map[string][3]int{ // execs, opens, connects for n iterations (+1 open: creating the marker)
		"open_close":     {0, 51, 0},
		"fork_exec":      {50, 0, 0},
		"connect_accept": {0, 0, 50},
		"getpid":         {0, 0, 0},
	}
	for _, l := range loops {
		res, err := measure(l, t.TempDir(), 50)
		if err != nil {
			t.Fatalf("%s: %v", l.name, err)
		}
		w := want[l.name]
		if res.Name != l.name || res.Ops != 50 || res.Execs != w[0] || res.Opens != w[1] || res.Connects != w[2] {
			t.Errorf("%s: %+v, want 50 ops and execs/opens/connects %v", l.name, res, w)
		}
		if res.NsPerOp <= 0 || (l.timed && res.P99Ns <= 0) || (!l.timed && res.P99Ns != 0) {
			t.Errorf("%s: ns/op %v, p99 %v", l.name, res.NsPerOp, res.P99Ns)
		}
	}
}

func TestSelectLoops(t *testing.T) {
	got, err := selectLoops("getpid,open_close")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].name != "open_close" || got[1].name != "getpid" {
		t.Fatalf("got %v, want open_close then getpid only", got)
	}
	if all, _ := selectLoops(""); len(all) != len(loops) {
		t.Fatalf("empty list selected %d loops, want all %d", len(all), len(loops))
	}
	if _, err := selectLoops("open_close,nope"); err == nil || err.Error() != `-loops: no loop named "nope"` {
		t.Fatalf("err = %v", err)
	}
}

// The paced loop never runs ahead of its rate, and counts every open of
// the marker file it made.
func TestPacedStaysAtOrBelowItsRate(t *testing.T) {
	res, err := paced(t.TempDir(), 2000, 2, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops <= 0 || res.Ops > 400 {
		t.Fatalf("%d open/close pairs in 200 ms at 2000/s, want 1..400", res.Ops)
	}
	if res.Opens != res.Ops+1 || res.Execs != 0 || res.Connects != 0 {
		t.Fatalf("truth %+v, want opens = ops + 1", res)
	}
}

func TestP99(t *testing.T) {
	lat := make([]time.Duration, 200)
	for i := range lat {
		lat[i] = time.Duration(200-i) * time.Microsecond
	}
	if got := p99(lat); got != float64(199*time.Microsecond) {
		t.Fatalf("p99 = %v, want 199 µs", got)
	}
	if p99(nil) != 0 {
		t.Fatal("p99 of nothing is not 0")
	}
}
