package fanguard

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// TestOpenBlockByComm denies a watched file to one program and not another,
// deciding by the comm of the process asking.
func TestOpenBlockByComm(t *testing.T) {
	requireRoot(t)
	mnt := testMount(t)
	secret := filepath.Join(mnt, "secret")
	if err := os.WriteFile(secret, []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(mnt, "keys")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	inDir := filepath.Join(dir, "key")
	if err := os.WriteFile(inDir, []byte("k3y"), 0o600); err != nil {
		t.Fatal(err)
	}
	var commsMu sync.Mutex
	comms := map[uint32]string{}
	rec := &recorder{decide: func(r *Request) Verdict {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", r.PID))
		c := strings.TrimSpace(string(comm))
		commsMu.Lock()
		comms[r.PID] = c
		commsMu.Unlock()
		return Verdict{Allow: c != "badreader"}
	}}
	g := startGuard(t, Config{Decide: rec.Decide, CacheSize: -1, Workers: 1})
	if err := g.WatchOpen(secret); err != nil {
		t.Fatal(err)
	}
	if err := g.WatchOpen(dir); err != nil {
		t.Fatal(err)
	}
	bad := copyTestBinary(t, "badreader")
	good := copyTestBinary(t, "goodreader")

	type run struct {
		bin, path, want string
	}
	runs := []run{
		{bad, secret, "errno 1"},
		{good, secret, "ok s3cret"},
		{bad, inDir, "errno 1"},
		{good, inDir, "ok k3y"},
	}
	var wantReqs []Request
	for _, r := range runs {
		pid, out := runHelper(t, r.bin, "readfile", r.path)
		var tid int
		var result string
		if _, err := fmt.Sscanf(out, "tid %d", &tid); err != nil {
			t.Fatalf("helper output %q", out)
		}
		result = strings.TrimPrefix(out, fmt.Sprintf("tid %d ", tid))
		if result != r.want {
			t.Errorf("%s reading %s: %q, want %q", filepath.Base(r.bin), r.path, result, r.want)
		}
		dev, ino := statOf(t, r.path)
		wantReqs = append(wantReqs, Request{Kind: Open, PID: uint32(pid), TID: uint32(tid), Path: r.path, Dev: dev, Ino: ino})
	}
	reqs := rec.requests()
	if len(reqs) != len(wantReqs) {
		t.Fatalf("Decider called %d times, want %d: %+v", len(reqs), len(wantReqs), reqs)
	}
	for i, r := range reqs {
		got := Request{Kind: r.Kind, PID: r.PID, TID: r.TID, Path: r.Path, Dev: r.Dev, Ino: r.Ino}
		if got != wantReqs[i] {
			t.Errorf("request %d = %+v, want %+v", i, got, wantReqs[i])
		}
		if r.Mode&0o777 != 0o600 || r.Size == 0 {
			t.Errorf("request %d: mode %o size %d", i, r.Mode, r.Size)
		}
	}
	commsMu.Lock()
	if comms[wantReqs[0].PID] != "badreader" || comms[wantReqs[1].PID] != "goodreader" {
		t.Errorf("comms seen: %v", comms)
	}
	commsMu.Unlock()
	st := g.Stats()
	want := Stats{OpenEvents: 4, Allowed: 2, Denied: 2, Decided: 4}
	if !sameCounts(st, want) {
		t.Errorf("stats %+v, want %+v", counts(st), counts(want))
	}
	if open := openFdsUnder(t, mnt); len(open) != 0 {
		t.Errorf("event fds left open: %v", open)
	}

	// Unwatching hands the files back.
	if err := g.UnwatchOpen(secret); err != nil {
		t.Fatal(err)
	}
	if err := g.UnwatchOpen(dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{secret, inDir} {
		if _, out := runHelper(t, bad, "readfile", p); !strings.Contains(out, " ok ") {
			t.Errorf("after UnwatchOpen, badreader reading %s: %q", p, out)
		}
	}
	if n := rec.calls(); n != len(wantReqs) {
		t.Errorf("Decider called %d times after UnwatchOpen", n-len(wantReqs))
	}
}

// TestWatchErrors: bad paths come back as errors naming the call and path.
func TestWatchErrors(t *testing.T) {
	requireRoot(t)
	g := startGuard(t, Config{Decide: func(*Request) Verdict { return Verdict{Allow: true} }})
	missing := filepath.Join(t.TempDir(), "missing")
	for name, err := range map[string]error{
		"WatchOpen":        g.WatchOpen(missing),
		"WatchExecMount":   g.WatchExecMount(missing),
		"UnwatchExecMount": g.UnwatchExecMount(t.TempDir()),
	} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want an error naming %s", name, err, name)
		}
	}
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), "Decide") {
		t.Errorf("New without a Decider: %v", err)
	}
}

// counts strips the histogram so counters compare with reflect.DeepEqual.
func counts(s Stats) Stats {
	s.Latency = Histogram{}
	return s
}

func sameCounts(got, want Stats) bool { return reflect.DeepEqual(counts(got), counts(want)) }
