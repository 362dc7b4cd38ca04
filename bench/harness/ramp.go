package main

import (
	"errors"
	"strconv"
	"time"
)

// rampStep is one rate of the stress ramp.
type rampStep struct {
	Target      int     // open/close pairs per second asked of the workload
	Achieved    float64 // what it reached
	Truth       int     // opens it made
	Delivered   float64 // opens the ground-truth rule saw
	KernelDrops float64
	PipeDrops   float64
	AlertDrops  float64 // alerts the outputs could not take: not events lost
	AgentCPU    time.Duration
	Seconds     float64
	Events      float64 // every event the agent read meanwhile
}

// Lost is what ground truth says went missing.
func (s rampStep) Lost() float64 { return max(0, float64(s.Truth)-s.Delivered) }

// eventRate is every event the agent read per second during the step.
func (s rampStep) eventRate() float64 { return s.Events / max(s.Seconds, 1e-9) }

// Clean says the step lost nothing by any measure.
func (s rampStep) Clean() bool { return s.Lost() == 0 && s.KernelDrops == 0 && s.PipeDrops == 0 }

// rampResult is the stress mode's outcome.
type rampResult struct {
	Steps []rampStep
	// BestClean is the clean step at which the agent took in the most
	// events per second (the workload's plus the machine's own); -1 when
	// every step lost events.
	BestClean int
	// FirstLoss is the first step that lost events, -1 if none did.
	FirstLoss int
	// Saturated is set when the machine could not generate the target
	// rate any more before Vigil dropped anything.
	Saturated bool
}

// runRamp doubles the rate of open/close pairs, a few seconds per step,
// under one agent with the ground-truth rules, until the agent first loses
// an event or the workload falls well short of its target; then it halves
// the gap between the last clean rate and the first lossy one twice.
func runRamp(env *suiteEnv, a agent) (res rampResult, err error) {
	rates := []int{5000, 10000, 20000, 40000, 80000, 160000, 320000, 640000}
	secs := "3s"
	if env.opts.quick {
		rates, secs = []int{20000, 80000, 320000}, "1s"
	}
	res = rampResult{BestClean: -1, FirstLoss: -1}
	if err := a.start(); err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, a.stop()) }()
	step := func(rate int) (rampStep, error) {
		env.opts.logf("ramp: %d opens/s", rate)
		w := workload{name: "paced_open", run: func() (workloadResult, error) {
			out, err := runMicro(env.opts.workload, "-rate", strconv.Itoa(rate), "-threads", "2", "-duration", secs)
			if err != nil {
				return workloadResult{}, err
			}
			r := out[0].result()
			r.Throughput = float64(out[0].Ops) / out[0].Seconds
			return r, nil
		}}
		m, err := measure(a, w)
		if err != nil {
			return rampStep{}, err
		}
		return rampStep{Target: rate, Achieved: m.Result.Throughput, Truth: m.Result.Truth["open"],
			Delivered: m.Agent.delta.Matches["open"], KernelDrops: m.Agent.delta.KernelDrops,
			PipeDrops: m.Agent.delta.PipelineDrops, AlertDrops: m.Agent.delta.AlertDrops, AgentCPU: m.Agent.CPU, Events: m.Agent.delta.Events,
			Seconds: m.Result.Ops / max(1, m.Result.Throughput)}, nil
	}
	record := func(s rampStep) {
		res.Steps = append(res.Steps, s)
		i := len(res.Steps) - 1
		if !s.Clean() {
			if res.FirstLoss < 0 || s.Target < res.Steps[res.FirstLoss].Target {
				res.FirstLoss = i
			}
			return
		}
		if res.BestClean < 0 || s.eventRate() > res.Steps[res.BestClean].eventRate() {
			res.BestClean = i
		}
	}
	lastClean := 0
	for _, rate := range rates {
		s, err := step(rate)
		if err != nil {
			return res, err
		}
		record(s)
		if !s.Clean() {
			break
		}
		lastClean = rate
		if s.Achieved < 0.9*float64(rate) {
			res.Saturated = true
			return res, nil
		}
	}
	if res.FirstLoss < 0 || env.opts.quick {
		return res, nil
	}
	lo, hi := lastClean, res.Steps[res.FirstLoss].Target
	for range 2 {
		mid := (lo + hi) / 2
		if mid <= lo {
			break
		}
		s, err := step(mid)
		if err != nil {
			return res, err
		}
		record(s)
		if s.Clean() {
			lo = mid
		} else {
			hi = mid
		}
	}
	return res, nil
}
