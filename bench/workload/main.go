// Command workload runs fixed syscall loops and prints, as JSON, ns per
// operation, the p99 latency of one operation and the ground truth: how many
// execs, opens and connects it made. The bench harness runs it with and
// without an agent and checks what the agent delivered against that truth.
//
// The open loop opens a file named vigil-bench-open and the process is named
// vigil-workload, so that agents can pick its events out exactly.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// result is one loop's measurement; the harness decodes the same shape.
type result struct {
	Name     string  `json:"name"`
	Ops      int     `json:"ops"`
	NsPerOp  float64 `json:"ns_per_op"`
	P99Ns    float64 `json:"p99_ns,omitempty"`
	Execs    int     `json:"execs"`
	Opens    int     `json:"opens"`
	Connects int     `json:"connects"`
	Seconds  float64 `json:"seconds"`
}

// loop is one micro-benchmark: base is its iteration count at scale 1, and
// the truth counts say which events one iteration makes.
type loop struct {
	name                   string
	base                   int
	execs, opens, connects int
	// setupOpens are opens of the marker file before the loop (creating it).
	setupOpens int
	// timed loops record each iteration's latency; getpid is too short
	// for the clock reads not to dominate it.
	timed bool
	run   func(dir string, n int, lat []time.Duration) error
}

var loops = []loop{
	{name: "open_close", base: 200000, opens: 1, setupOpens: 1, timed: true, run: openClose},
	{name: "fork_exec", base: 2000, execs: 1, timed: true, run: forkExec},
	{name: "connect_accept", base: 20000, connects: 1, timed: true, run: connectAccept},
	{name: "getpid", base: 2000000, run: getpid},
}

func main() {
	scale := flag.Float64("scale", 1, "multiply every loop's iteration count")
	only := flag.String("loops", "", "comma-separated loops to run (default all: open_close, fork_exec, connect_accept, getpid)")
	rate := flag.Int("rate", 0, "paced mode: open/close pairs per second, spread over -threads (0: run the fixed loops)")
	threads := flag.Int("threads", 2, "paced mode: threads sharing the rate")
	duration := flag.Duration("duration", 3*time.Second, "paced mode: how long to keep the rate")
	flag.Parse()
	dir, err := os.MkdirTemp("", "vigil-workload")
	if err != nil {
		fail(err)
	}
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintf(os.Stderr, "workload: %v\n", err) // the results stand; the leftover is named
		}
	}()
	if *rate > 0 {
		res, err := paced(dir, *rate, *threads, *duration)
		if err != nil {
			fail(err)
		}
		if err := json.NewEncoder(os.Stdout).Encode([]result{res}); err != nil {
			fail(err)
		}
		return
	}
	selected, err := selectLoops(*only)
	if err != nil {
		fail(err)
	}
	var results []result
	for _, l := range selected {
		n := max(1, int(float64(l.base)**scale))
		res, err := measure(l, dir, n)
		if err != nil {
			fail(fmt.Errorf("%s: %w", l.name, err))
		}
		results = append(results, res)
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		fail(err)
	}
}

// selectLoops returns the loops named in the comma-separated list, in
// their fixed order, or all of them for an empty list.
func selectLoops(only string) ([]loop, error) {
	want := map[string]bool{}
	for _, name := range strings.Split(only, ",") {
		if name != "" {
			want[name] = true
		}
	}
	if len(want) == 0 {
		return loops, nil
	}
	var out []loop
	for _, l := range loops {
		if want[l.name] {
			out = append(out, l)
			delete(want, l.name)
		}
	}
	for name := range want {
		return nil, fmt.Errorf("-loops: no loop named %q", name)
	}
	return out, nil
}

func measure(l loop, dir string, n int) (result, error) {
	var lat []time.Duration
	if l.timed {
		lat = make([]time.Duration, n)
	}
	start := time.Now()
	if err := l.run(dir, n, lat); err != nil {
		return result{}, err
	}
	took := time.Since(start)
	return result{Name: l.name, Ops: n, NsPerOp: float64(took.Nanoseconds()) / float64(n), P99Ns: p99(lat),
		Execs: n * l.execs, Opens: n*l.opens + l.setupOpens, Connects: n * l.connects, Seconds: took.Seconds()}, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "workload:", err)
	os.Exit(1)
}
