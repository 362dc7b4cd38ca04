package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// suiteOptions configure -mode suite.
type suiteOptions struct {
	vigil, workload string
	rulesDir        string // minimal.yaml, truth.yaml, audit.rules, lowerbound.bt
	outDir          string // where <date>.md and latest.json go
	reps            int
	quick           bool
	goBench         bool
	repoDir         string // where `go test` runs the micro-benchmarks
	logf            func(format string, args ...any)
}

func (o *suiteOptions) register(f *flag.FlagSet) {
	f.StringVar(&o.rulesDir, "rules-dir", "bench/rules", "suite: directory with minimal.yaml, truth.yaml, audit.rules and lowerbound.bt")
	f.StringVar(&o.outDir, "out", "bench/results", "suite: directory for the report and latest.json")
	f.IntVar(&o.reps, "reps", 5, "suite: interleaved repetitions per configuration")
	f.BoolVar(&o.quick, "quick", false, "suite: smaller workloads, fewer ramp steps and repetitions (a smoke run, not for publishing)")
	f.BoolVar(&o.goBench, "gobench", true, "suite: run the Go micro-benchmarks too")
	f.StringVar(&o.repoDir, "repo", ".", "suite: the repository root, for the Go micro-benchmarks")
}

// measurement is one workload run under one configuration.
type measurement struct {
	Config   string
	Workload string
	Rep      int
	Result   workloadResult
	Agent    agentUsage
}

// agentUsage is what the agent cost and delivered while one workload ran.
type agentUsage struct {
	CPU        time.Duration
	PeakRSSKiB int64
	delta      counters
}

func runSuite(o suiteOptions) (err error) {
	if o.logf == nil {
		o.logf = func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
		}
	}
	if o.quick {
		o.reps = min(o.reps, 3)
	}
	if o.reps < 1 {
		return fmt.Errorf("-reps %d: want at least 1", o.reps)
	}
	started := time.Now()
	tmp, err := os.MkdirTemp("", "vigil-bench")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(tmp)) }()
	// nginx workers and stress-ng run as nobody and work below it.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	env := &suiteEnv{opts: o, tmp: tmp}
	rep := &report{Started: started, Machine: describeMachine(), Reps: o.reps, Quick: o.quick}

	workloads := suiteWorkloads(env)
	phase1 := []agent{
		noAgent{},
		newVigil(o.vigil, "vigil-default", nil),
		newVigil(o.vigil, "vigil-minimal", []string{"--rules", filepath.Join(o.rulesDir, "minimal.yaml")}),
		newBpftrace(filepath.Join(o.rulesDir, "lowerbound.bt"), tmp),
	}
	// Audit is enabled for the first time here, so it runs after everything
	// else; its baseline runs with the audit state reset (see auditd.go).
	phase2 := []agent{
		noAgent{resetAudit: true, label: "none (audit reset)"},
		newAuditd(filepath.Join(o.rulesDir, "audit.rules"), tmp),
	}
	resetAudit(o.logf) // a state left by an earlier run must not slow the baseline
	// One unrecorded pass warms the page cache and the binaries, or the
	// first configuration measured pays for it.
	if _, err := runConfig(env, noAgent{label: "warm-up"}, workloads, 0); err != nil {
		return err
	}
	for r := 1; r <= o.reps; r++ {
		for _, a := range alternate(phase1, r) {
			ms, err := runConfig(env, a, workloads, r)
			if err != nil {
				return err
			}
			rep.Runs = append(rep.Runs, ms...)
			if b, ok := a.(*bpftraceAgent); ok {
				rep.Bpftrace = append(rep.Bpftrace, b.last)
				rep.BpftraceTruth = append(rep.BpftraceTruth, truthOf(ms))
			}
		}
	}
	o.logf("ground-truth check")
	truthRules := filepath.Join(o.rulesDir, "truth.yaml")
	for _, a := range []agent{
		newVigil(o.vigil, "vigil-default+truth", []string{"--with-defaults", "--rules", truthRules}),
		newVigil(o.vigil, "vigil-minimal+truth", []string{"--rules", filepath.Join(o.rulesDir, "minimal.yaml"), "--rules", truthRules}),
	} {
		ms, err := runConfig(env, a, microWorkloads(env), 0)
		if err != nil {
			return err
		}
		rep.Truth = append(rep.Truth, ms...)
	}
	o.logf("stress ramp")
	ramp, err := runRamp(env, newVigil(o.vigil, "vigil-default+truth", []string{"--with-defaults", "--rules", truthRules}))
	if err != nil {
		return err
	}
	rep.Ramp = ramp
	func() {
		defer resetAudit(o.logf)
		for r := 1; r <= o.reps; r++ {
			for _, a := range alternate(phase2, r) {
				ms, e := runConfig(env, a, workloads, r)
				if e != nil {
					err = e
					return
				}
				rep.Runs = append(rep.Runs, ms...)
			}
		}
	}()
	if err != nil {
		return err
	}
	if o.goBench {
		o.logf("Go micro-benchmarks")
		rep.GoBench, rep.GoBenchErr = runGoBench(o.repoDir, o.quick)
	}
	rep.Finished = time.Now()
	rep.Machine.LoadAfter = loadAverage()
	return rep.write(o.outDir, o.logf)
}

// runConfig starts a, runs every workload once under it and stops it.
func runConfig(env *suiteEnv, a agent, workloads []workload, rep int) ([]measurement, error) {
	env.opts.logf("rep %d: %s", rep, a.name())
	if err := a.start(); err != nil {
		return nil, fmt.Errorf("%s: %w", a.name(), err)
	}
	var out []measurement
	for _, w := range workloads {
		m, err := measure(a, w)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("%s under %s: %w", w.name, a.name(), err), a.stop())
		}
		m.Rep = rep
		out = append(out, m)
	}
	if err := a.stop(); err != nil {
		return nil, fmt.Errorf("stop %s: %w", a.name(), err)
	}
	time.Sleep(300 * time.Millisecond) // let the machine settle between configurations
	return out, nil
}

// measure runs w once and charges the agent with the CPU it used meanwhile,
// including the drain of what the workload left queued.
func measure(a agent, w workload) (measurement, error) {
	before, err := a.snapshot()
	if err != nil {
		return measurement{}, err
	}
	cpu0 := cpuOf(a.pids())
	rss := startRSSSampler(a.pids())
	res, err := w.run()
	if err != nil {
		rss.stop()
		return measurement{}, err
	}
	after, err := a.drain(res.Truth, before)
	peak := rss.stop()
	if err != nil {
		return measurement{}, err
	}
	return measurement{Config: a.name(), Workload: w.name, Result: res,
		Agent: agentUsage{CPU: cpuOf(a.pids()) - cpu0, PeakRSSKiB: peak, delta: after.sub(before)}}, nil
}

// truthOf sums the ground truth of the workloads that know theirs.
func truthOf(ms []measurement) map[string]int {
	t := map[string]int{}
	for _, m := range ms {
		for k, n := range m.Result.Truth {
			t[k] += n
		}
	}
	return t
}

// alternate returns the configurations in order on odd repetitions and
// reversed on even ones (A B C, C B A, ...), so that a load that drifts
// during the run weighs on every configuration alike.
func alternate(agents []agent, rep int) []agent {
	if rep%2 == 1 {
		return agents
	}
	out := slices.Clone(agents)
	slices.Reverse(out)
	return out
}
