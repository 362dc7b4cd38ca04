package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// report is everything one suite run measured.
type report struct {
	Started, Finished time.Time
	Machine           machine
	Reps              int
	Quick             bool
	Runs              []measurement
	Truth             []measurement                   // verification runs with truth.yaml
	Bpftrace          []map[string]map[string]float64 // per repetition: map, comm, count
	BpftraceTruth     []map[string]int                // the micro-loops' truth in those repetitions
	Ramp              rampResult
	GoBench           []goBench
	GoBenchErr        string
}

// configOrder is the column order of every table; baselineOf pairs each
// configuration with the no-agent runs of its own phase.
var configOrder = []string{"vigil-default", "vigil-minimal", "bpftrace", "auditd"}

func baselineOf(config string) string {
	if config == "auditd" {
		return "none (audit reset)"
	}
	return "none"
}

func (r *report) workloads() []string {
	var ws []string
	for _, m := range r.Runs {
		if !slices.Contains(ws, m.Workload) {
			ws = append(ws, m.Workload)
		}
	}
	return ws
}

func (r *report) find(config, workload string, rep int) (measurement, bool) {
	for _, m := range r.Runs {
		if m.Config == config && m.Workload == workload && m.Rep == rep {
			return m, true
		}
	}
	return measurement{}, false
}

// perRep collects f over the repetitions of config on workload, each paired
// with the baseline run of the same repetition.
func (r *report) perRep(config, workload string, f func(m, base measurement) float64) spread {
	var v []float64
	for rep := 1; rep <= r.Reps; rep++ {
		m, ok := r.find(config, workload, rep)
		base, okb := r.find(baselineOf(config), workload, rep)
		if ok && okb {
			v = append(v, f(m, base))
		}
	}
	return summarize(v)
}

func slowdown(m, base measurement) float64 { return base.Result.Throughput / m.Result.Throughput }

// cpuSlowdown compares the workload's own CPU per operation.
func cpuSlowdown(m, base measurement) float64 {
	if m.Result.CPUNs == 0 || base.Result.CPUNs == 0 {
		return math.NaN()
	}
	return (m.Result.CPUNs / m.Result.Ops) / (base.Result.CPUNs / base.Result.Ops)
}

func p99Ratio(m, base measurement) float64 {
	if m.Result.P99Ns == 0 || base.Result.P99Ns == 0 {
		return math.NaN()
	}
	return m.Result.P99Ns / base.Result.P99Ns
}

func cpuPerOp(m, _ measurement) float64 { return float64(m.Agent.CPU.Nanoseconds()) / m.Result.Ops }

func cpuPerEvent(m, _ measurement) float64 {
	if m.Agent.delta.Events <= 0 {
		return math.NaN()
	}
	return float64(m.Agent.CPU.Nanoseconds()) / m.Agent.delta.Events
}

func eventsPerSec(m, _ measurement) float64 {
	secs := m.Result.Ops / m.Result.Throughput
	return m.Agent.delta.Events / secs
}

func fmtSpread(s spread, format string) string {
	if !s.ok() {
		return "n/a"
	}
	if s.N == 1 || s.Min == s.Max {
		return fmt.Sprintf(format, s.Median)
	}
	return fmt.Sprintf(format+" ("+format+"–"+format+")", s.Median, s.Min, s.Max)
}

// table writes one Markdown table: a row per workload, a column per
// configuration.
func (r *report) table(b *strings.Builder, title, note string, configs []string, cell func(config, workload string) string) {
	fmt.Fprintf(b, "### %s\n\n", title)
	if note != "" {
		fmt.Fprintf(b, "%s\n\n", note)
	}
	fmt.Fprintf(b, "| workload | %s |\n|---|%s\n", strings.Join(configs, " | "), strings.Repeat("---:|", len(configs)))
	for _, w := range r.workloads() {
		cells := make([]string, len(configs))
		for i, c := range configs {
			cells[i] = cell(c, w)
		}
		fmt.Fprintf(b, "| %s | %s |\n", w, strings.Join(cells, " | "))
	}
	b.WriteString("\n")
}

func (r *report) markdown(reg []regression, prevDate string) string {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "# Vigil benchmark report, %s\n\n", r.Started.UTC().Format("2006-01-02 15:04 MST"))
	if r.Quick {
		b.WriteString("**QUICK run: smaller workloads and fewer repetitions; a smoke test, not for publishing.**\n\n")
	}
	fmt.Fprintf(&b, "Produced by `make bench` (`bench/run`) in %s. %d interleaved repetitions per configuration; "+
		"every figure is the median over repetitions, with the range (min–max) in parentheses.\n\n",
		r.Finished.Sub(r.Started).Round(time.Second), r.Reps)
	b.WriteString("## Machine\n\n| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| kernel | %s |\n| CPU | %s |\n| cores | %d |\n| memory | %.1f GiB |\n| OS | %s |\n| load average (1, 5, 15 min) before / after | %s / %s |\n",
		m.Kernel, m.CPU, m.Cores, m.MemoryGiB, m.OS, m.LoadBefore, m.LoadAfter)
	tools := make([]string, 0, len(m.Tools))
	for k := range m.Tools {
		tools = append(tools, k)
	}
	slices.Sort(tools)
	for _, k := range tools {
		fmt.Fprintf(&b, "| %s | `%s` |\n", k, m.Tools[k])
	}
	b.WriteString("\n## Cost to the workload\n\n")
	r.table(&b, "Slowdown (time per operation with the agent ÷ without; 1.00 = free)",
		"Each repetition is paired with the no-agent run of the same repetition. auditd's baseline is the no-agent run of its own phase, with the audit state reset.",
		configOrder, func(c, w string) string { return fmtSpread(r.perRep(c, w, slowdown), "%.2f") })
	r.table(&b, "Workload CPU per operation (with ÷ without)",
		"User + system CPU of the workload's own processes per operation (getrusage of the waited-for processes). On a crowded machine throughput mostly measures the other tenants; CPU time is charged only while the workload runs, so this ratio isolates what the agent's hooks add in the workload's context (its own CPU is in the next section).",
		configOrder, func(c, w string) string { return fmtSpread(r.perRep(c, w, cpuSlowdown), "%.2f") })
	r.table(&b, "p99 latency ratio (with ÷ without)", "Per-operation p99 for the micro-loops, wrk's p99 request latency for nginx; n/a where the workload has none.",
		configOrder, func(c, w string) string { return fmtSpread(r.perRep(c, w, p99Ratio), "%.2f") })
	r.table(&b, "Baseline throughput (operations/s, no agent)", "stress-ng: bogo ops/s; nginx: requests/s.",
		[]string{"none", "none (audit reset)"}, func(c, w string) string {
			var v []float64
			for _, m := range r.Runs {
				if m.Config == c && m.Workload == w {
					v = append(v, m.Result.Throughput)
				}
			}
			return fmtSpread(summarize(v), "%.0f")
		})
	b.WriteString("## Cost of the agent\n\n")
	r.table(&b, "Agent CPU per workload operation (ns)",
		"User + system CPU of the agent's processes (auditd: the daemon and the kauditd kernel thread; bpftrace: its user-space process, since the eBPF programs run in the workload's context) while the workload ran, divided by the workload's operations.",
		configOrder, func(c, w string) string { return fmtSpread(r.perRep(c, w, cpuPerOp), "%.0f") })
	r.table(&b, "Agent CPU per delivered event (ns) and events delivered per second",
		"Events are everything the agent read from the kernel while the workload ran, the machine's other activity included.",
		[]string{"vigil-default", "vigil-minimal"}, func(c, w string) string {
			return fmtSpread(r.perRep(c, w, cpuPerEvent), "%.0f") + " ns at " + fmtSpread(r.perRep(c, w, eventsPerSec), "%.0f") + "/s"
		})
	r.table(&b, "Peak RSS of the agent (MiB)", "Highest resident memory sampled every 50 ms while the workload ran.",
		configOrder, func(c, w string) string {
			return fmtSpread(r.perRep(c, w, func(m, _ measurement) float64 { return float64(m.Agent.PeakRSSKiB) / 1024 }), "%.1f")
		})
	r.table(&b, "Events lost by the agent's own counters (sum over repetitions)",
		"Vigil: kernel ring-buffer drops + pipeline drops (+ alerts dropped). auditd: the kernel's `lost` counter. bpftrace counts in maps and cannot lose.",
		[]string{"vigil-default", "vigil-minimal", "auditd"}, func(c, w string) string {
			var k, p, a float64
			for _, m := range r.Runs {
				if m.Config == c && m.Workload == w {
					k += m.Agent.delta.KernelDrops
					p += m.Agent.delta.PipelineDrops
					a += m.Agent.delta.AlertDrops
				}
			}
			if c == "auditd" {
				return fmt.Sprintf("%.0f", k)
			}
			s := fmt.Sprintf("%.0f + %.0f", k, p)
			if a > 0 {
				s += fmt.Sprintf(" (+%.0f alerts)", a)
			}
			return s
		})
	r.truthSection(&b)
	r.rampSection(&b)
	r.goalsSection(&b)
	r.goBenchSection(&b)
	b.WriteString("## Regression check\n\n")
	if prevDate == "" {
		b.WriteString("No previous report (`bench/results/latest.json`) to compare with.\n\n")
	} else {
		fmt.Fprintf(&b, "Against the previous report (%s). A change is flagged when it exceeds the larger half-range (max−min)/2 of the two runs. This never fails the build: the machines are noisy.\n\n", prevDate)
		b.WriteString("| configuration | workload | metric | previous | now | verdict |\n|---|---|---|---:|---:|---|\n")
		for _, g := range reg {
			fmt.Fprintf(&b, "| %s | %s | %s | %.2f | %.2f | %s |\n", g.Config, g.Workload, g.Metric, g.Prev, g.Now, g.Verdict)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// truthRow is one ground-truth comparison.
type truthRow struct {
	Config, Workload, Kind string
	Truth, Delivered       float64
}

func (t truthRow) lost() float64 { return max(0, t.Truth-t.Delivered) }

func (r *report) truthRows() []truthRow {
	var rows []truthRow
	for _, m := range r.Truth {
		for _, kind := range []string{"exec", "open", "connect"} {
			if n := m.Result.Truth[kind]; n > 0 {
				rows = append(rows, truthRow{m.Config, m.Workload, kind, float64(n), m.Agent.delta.Matches[kind]})
			}
		}
	}
	// auditd records every exec and connect: check them in every repetition.
	for _, w := range []string{"fork_exec", "connect_accept"} {
		kind := map[string]string{"fork_exec": "exec", "connect_accept": "connect"}[w]
		var truth, got float64
		for _, m := range r.Runs {
			if m.Config == "auditd" && m.Workload == w {
				truth += float64(m.Result.Truth[kind])
				got += m.Agent.delta.Matches[kind]
			}
		}
		if truth > 0 {
			rows = append(rows, truthRow{"auditd (all repetitions)", w, kind, truth, got})
		}
	}
	// bpftrace's maps are read at exit: compare per repetition over all loops.
	var truth, got = map[string]float64{}, map[string]float64{}
	for i, maps := range r.Bpftrace {
		for kind, n := range r.BpftraceTruth[i] {
			truth[kind] += float64(n)
			got[kind] += maps[kind]["vigil-workload"]
		}
	}
	for _, kind := range []string{"exec", "open", "connect"} {
		if truth[kind] > 0 {
			rows = append(rows, truthRow{"bpftrace (all repetitions)", "micro-loops", kind, truth[kind], got[kind]})
		}
	}
	return rows
}

func (r *report) truthSection(b *strings.Builder) {
	b.WriteString("## Loss against ground truth\n\n")
	b.WriteString("The micro-loops count what they did. For Vigil, one extra run per rule set loads `bench/rules/truth.yaml`, whose rules match exactly the loops' own events; their match counts (from the metrics endpoint) are what Vigil delivered. Every match also builds an alert, so these runs carry more load than the timed ones. auditd is checked from the records it wrote (exec and connect are the syscalls it records); bpftrace from its per-process counters (opens include the Go runtime's few at start-up, so it may exceed the truth).\n\n")
	b.WriteString("| configuration | workload | kind | ground truth | delivered | lost |\n|---|---|---|---:|---:|---:|\n")
	for _, t := range r.truthRows() {
		fmt.Fprintf(b, "| %s | %s | %s | %.0f | %.0f | %.0f |\n", t.Config, t.Workload, t.Kind, t.Truth, t.Delivered, t.lost())
	}
	b.WriteString("\n")
}

func (r *report) rampSection(b *strings.Builder) {
	b.WriteString("## Stress ramp (Vigil, default rules + ground-truth rules)\n\n")
	b.WriteString("Two threads open and close a marker file at a target rate for a few seconds per step; the rate doubles until Vigil first loses an event (by ground truth or by its counters) or the machine cannot generate the rate, then the gap between the last clean and the first lossy rate is halved twice. The machine's other activity adds to the workload's events (last column); the sustained rate reported is the highest total Vigil took in without loss. Every open also raises an alert (the ground-truth rule), so this is the rate at which Vigil evaluates the default rules *and* builds an alert for every event: a floor for plain event throughput. Alerts the output queue could not take are counted apart: the events were delivered, the alerts were shed.\n\n")
	b.WriteString("| target opens/s | achieved/s | opens made | delivered | lost | kernel + pipeline drops | alerts dropped | agent CPU (% of one core) | all events/s |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range r.Ramp.Steps {
		fmt.Fprintf(b, "| %d | %.0f | %d | %.0f | %.0f | %.0f + %.0f | %.0f | %.0f %% | %.0f |\n", s.Target, s.Achieved, s.Truth, s.Delivered, s.Lost(),
			s.KernelDrops, s.PipeDrops, s.AlertDrops, 100*s.AgentCPU.Seconds()/max(s.Seconds, 1e-9), s.Events/max(s.Seconds, 1e-9))
	}
	b.WriteString("\n")
	b.WriteString(r.rampVerdict() + "\n\n")
}

func (r *report) rampVerdict() string {
	rr := r.Ramp
	if len(rr.Steps) == 0 {
		return "The ramp did not run."
	}
	var parts []string
	if rr.BestClean >= 0 {
		s := rr.Steps[rr.BestClean]
		parts = append(parts, fmt.Sprintf("Highest sustained rate with zero loss: **%.0f events/s** (%.0f of them the workload's opens, each raising an alert), agent CPU %.0f %% of one core.",
			s.eventRate(), s.Achieved, 100*s.AgentCPU.Seconds()/max(s.Seconds, 1e-9)))
	} else {
		parts = append(parts, "Vigil lost events at every step.")
	}
	switch {
	case rr.FirstLoss >= 0:
		s := rr.Steps[rr.FirstLoss]
		parts = append(parts, fmt.Sprintf("First loss at a target of %d opens/s (%.0f achieved): %.0f lost by ground truth, %.0f kernel and %.0f pipeline drops.",
			s.Target, s.Achieved, s.Lost(), s.KernelDrops, s.PipeDrops))
	case rr.Saturated:
		parts = append(parts, "The machine could not generate a higher rate (the workload fell short of its target) before Vigil dropped anything: the loss point lies beyond what this machine can produce.")
	default:
		parts = append(parts, "No step lost an event.")
	}
	return strings.Join(parts, " ")
}

// goalsSection states where Vigil stands against BENCHMARKS.md's goals.
func (r *report) goalsSection(b *strings.Builder) {
	b.WriteString("## Against the goals\n\n")
	b.WriteString("Added cost = ratio − 1, for Vigil with the default rules. Goal 1: Vigil's added cost at most half of auditd's (or within Vigil's own spread). Goal 2: at most 3× bpftrace's, or within the measured spread of it. Judged twice: on wall-clock throughput, as asked, and on the workload's own CPU per operation, which the other tenants of a shared machine disturb far less.\n\n")
	for _, metric := range []struct {
		title string
		f     func(m, base measurement) float64
	}{{"throughput slowdown", slowdown}, {"workload CPU per operation", cpuSlowdown}} {
		fmt.Fprintf(b, "**By %s:**\n\n", metric.title)
		b.WriteString("| workload | Vigil added | auditd added | goal 1 | bpftrace added | goal 2 |\n|---|---:|---:|---|---:|---|\n")
		for _, w := range r.workloads() {
			v := r.perRep("vigil-default", w, metric.f)
			a := r.perRep("auditd", w, metric.f)
			bt := r.perRep("bpftrace", w, metric.f)
			if !v.ok() {
				continue
			}
			va, aa, ba := v.Median-1, a.Median-1, bt.Median-1
			g1, g2 := "n/a", "n/a"
			if a.ok() {
				g1 = verdict(va <= aa/2 || va <= v.halfRange())
			}
			if bt.ok() {
				g2 = verdict(va <= 3*max(ba, 0) || va-ba <= max(v.halfRange(), bt.halfRange()))
			}
			fmt.Fprintf(b, "| %s | %+.2f | %s | %s | %s | %s |\n", w, va, fmtAdded(a), g1, fmtAdded(bt), g2)
		}
		b.WriteString("\n")
	}
	b.WriteString("Goal 3 (zero loss at the highest rate this machine sustains): " + r.rampVerdict() + "\n\n")
}

func fmtAdded(s spread) string {
	if !s.ok() {
		return "n/a"
	}
	return fmt.Sprintf("%+.2f", s.Median-1)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

func (r *report) goBenchSection(b *strings.Builder) {
	b.WriteString("## Go micro-benchmarks (user-space cost per event, one core)\n\n")
	fmt.Fprintf(b, "`go test -run '^$' -bench . -skip DockerRunToEnriched -benchmem %s`\n\n", strings.Join(goBenchPackages, " "))
	if r.GoBenchErr != "" {
		fmt.Fprintf(b, "Problem: %s\n\n", r.GoBenchErr)
	}
	if len(r.GoBench) == 0 {
		b.WriteString("No results.\n\n")
		return
	}
	b.WriteString("| package | benchmark | ns/op | B/op | allocs/op |\n|---|---|---:|---:|---:|\n")
	for _, g := range r.GoBench {
		allocs := "n/a"
		if g.HasAlloc {
			allocs = fmt.Sprintf("%.0f", g.Allocs)
		}
		fmt.Fprintf(b, "| %s | %s | %.1f | %.0f | %s |\n", strings.TrimPrefix(g.Package, "github.com/vigilsec/vigil/"), g.Name, g.NsPerOp, g.BPerOp, allocs)
	}
	b.WriteString("\n")
}
