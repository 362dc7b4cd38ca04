// Command harness measures what Vigil costs the rest of the machine.
//
// With -mode events or run it runs the syscall workload with no agent and
// with `vigil events` or `vigil run` attached, alternating, and prints the
// slowdown ratios, the agent's CPU per event and its peak memory.
//
// With -mode suite it runs the whole benchmark of issue 8 (see suite.go and
// BENCHMARKS.md): every workload under no agent, Vigil with the default and a
// minimal rule set, bpftrace and auditd, interleaved; a ground-truth check; a
// stress ramp; the Go micro-benchmarks; and writes the Markdown report and
// latest.json, comparing with the previous run.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type result struct {
	Name    string  `json:"name"`
	Ops     int     `json:"ops"`
	NsPerOp float64 `json:"ns_per_op"`
}

type agentRun struct {
	cpu      time.Duration // user+system time spent while the workload ran
	received uint64        // events the agent read from the kernel
	drops    uint64        // kernel drops
	udrops   uint64        // pipeline drops
	peakRSS  int64         // KiB
}

func main() {
	vigil := flag.String("vigil", "./vigil", "vigil binary")
	workload := flag.String("workload", "./workload", "workload binary")
	rounds := flag.Int("rounds", 3, "baseline/agent pairs to run")
	scale := flag.Float64("scale", 1, "workload scale")
	format := flag.String("format", "none", "vigil events --format: none measures sensor, decode and process state; json adds rendering every event")
	mode := flag.String("mode", "events", "events: `vigil events` capturing every default syscall; run: `vigil run` with the embedded rules; suite: the full benchmark")
	var so suiteOptions
	so.register(flag.CommandLine)
	flag.Parse()
	if *mode == "suite" {
		so.vigil, so.workload = *vigil, *workload
		if err := runSuite(so); err != nil {
			fail("%v", err)
		}
		return
	}

	base := map[string][]float64{}
	with := map[string][]float64{}
	var runs []agentRun
	for i := range *rounds {
		fmt.Fprintf(os.Stderr, "round %d/%d: baseline\n", i+1, *rounds)
		collect(base, runWorkload(*workload, *scale))
		fmt.Fprintf(os.Stderr, "round %d/%d: with agent\n", i+1, *rounds)
		res, run := withAgent(*vigil, *workload, *mode, *format, *scale)
		collect(with, res)
		runs = append(runs, run)
	}

	fmt.Printf("| loop | baseline ns/op | with vigil ns/op | ratio |\n|---|---:|---:|---:|\n")
	for _, name := range []string{"open_close", "fork_exec", "connect_accept", "getpid"} {
		b, w := median(base[name]), median(with[name])
		fmt.Printf("| %s | %.0f | %.0f | %.2fx |\n", name, b, w, w/b)
	}
	var cpu time.Duration
	var events, drops, udrops uint64
	var rss int64
	for _, r := range runs {
		cpu += r.cpu
		events += r.received
		drops += r.drops
		udrops += r.udrops
		rss = max(rss, r.peakRSS)
	}
	perEvent := 0.0
	if events > 0 {
		perEvent = float64(cpu.Nanoseconds()) / float64(events)
	}
	fmt.Printf("\nagent: %d events over %d runs, %.0f ns CPU per event, peak RSS %d KiB, kernel drops %d, pipeline drops %d\n",
		events, len(runs), perEvent, rss, drops, udrops)
}

func collect(into map[string][]float64, res []result) {
	for _, r := range res {
		into[r.Name] = append(into[r.Name], r.NsPerOp)
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func runWorkload(bin string, scale float64) []result {
	out, err := exec.Command(bin, "-scale", strconv.FormatFloat(scale, 'f', -1, 64)).Output()
	if err != nil {
		fail("workload: %v", err)
	}
	var res []result
	if err := json.Unmarshal(out, &res); err != nil {
		fail("workload output: %v", err)
	}
	return res
}

func withAgent(vigil, workload, mode, format string, scale float64) ([]result, agentRun) {
	cmd := exec.Command(vigil, "events", "--stats", "--format", format)
	ready := "streaming events"
	if mode == "run" {
		cmd = exec.Command(vigil, "run", "--stats")
		ready = "running"
	}
	cmd.Stdout = nil // discarded: the cost of formatting is part of the agent's
	var stderr bytes.Buffer
	pr, pw, err := os.Pipe()
	if err != nil {
		fail("pipe: %v", err)
	}
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		fail("start vigil: %v", err)
	}
	// The child holds its own copy of the write end; ours must go for the
	// reader to see the end of the log.
	if err := pw.Close(); err != nil {
		fail("pipe: %v", err)
	}
	// Wait until the agent says it streams, then keep collecting stderr.
	rd := bufio.NewReader(pr)
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			fail("vigil exited before streaming: %s", line)
		}
		if strings.Contains(line, ready) {
			break
		}
	}
	done := make(chan struct{})
	go func() {
		_, _ = stderr.ReadFrom(rd) // to the end; a read error only shortens the log, which the stats parse shows
		close(done)
	}()

	cpu0 := cpuTime(cmd.Process.Pid)
	res := runWorkload(workload, scale)
	run := agentRun{cpu: cpuTime(cmd.Process.Pid) - cpu0, peakRSS: peakRSS(cmd.Process.Pid)}
	_ = cmd.Process.Signal(syscall.SIGINT) // fails only if vigil exited, which Wait reports
	waitErr := cmd.Wait()
	<-done
	if waitErr != nil {
		fail("vigil: %v: %s", waitErr, stderr.String())
	}
	type agentStats struct {
		Sensor struct {
			Received    uint64
			KernelDrops map[string]uint64
		}
		Pipeline struct{ Dropped uint64 }
	}
	var stats agentStats
	if mode == "run" {
		var wrapped struct{ Agent agentStats }
		out := stderr.Bytes()
		if err := json.Unmarshal(out[bytes.LastIndex(out, []byte("\n{"))+1:], &wrapped); err != nil {
			fail("vigil stats: %v in %q", err, stderr.String())
		}
		stats = wrapped.Agent
	} else if err := json.Unmarshal(lastLine(stderr.Bytes()), &stats); err != nil {
		fail("vigil stats: %v in %q", err, stderr.String())
	}
	run.received = stats.Sensor.Received
	for _, d := range stats.Sensor.KernelDrops {
		run.drops += d
	}
	run.udrops = stats.Pipeline.Dropped
	return res, run
}

func lastLine(b []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	return lines[len(lines)-1]
}

// cpuTime reads utime+stime of pid from /proc (clock ticks of 10 ms).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func peakRSS(pid int) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb
		}
	}
	return 0
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "harness: "+format+"\n", args...)
	os.Exit(1)
}
