package execguard

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// Kernel counter slots from bpf/execguard.h.
const (
	ctrCaptured = iota
	ctrCaptureFail
	ctrKilled
	ctrAudited
	ctrRingDrops
	ctrSignalFail
	ctrSlots
)

// Stats counts what the guard did and lost.
type Stats struct {
	Captured        uint64 // execs whose argv was stored
	CaptureFailures uint64 // pending map updates that failed
	Killed          uint64
	Audited         uint64
	SignalFailures  uint64 // matches bpf_send_signal refused to kill
	RingDrops       uint64 // kill records lost to a full ring buffer
	// RecursionMisses counts program runs the kernel skipped because a BPF
	// program was already running on that CPU: captures or checks lost.
	RecursionMisses uint64
	Received        uint64 // kill records read and handed to Run's fn (or failed to decode)
	DecodeErrors    uint64 // kill records or pending entries that did not parse
	Rules           int    // kill rules in force
	Generation      uint64 // deny-set swaps so far
}

// Stats reads the kernel counters. After Close it returns zero kernel
// counters.
func (g *Guard) Stats() Stats {
	var k [ctrSlots]uint64
	if g.objs.Counters != nil {
		for slot := range k {
			var perCPU []uint64
			if err := g.objs.Counters.Lookup(uint32(slot), &perCPU); err != nil {
				continue
			}
			for _, n := range perCPU {
				k[slot] += n
			}
		}
	}
	var misses uint64
	for _, p := range []*ebpf.Program{g.objs.ExecguardSysEnter, g.objs.ExecguardSysExit, g.objs.ExecguardExec} {
		if p == nil {
			continue
		}
		if ps, err := p.Stats(); err == nil {
			misses += ps.RecursionMisses
		}
	}
	g.mu.Lock()
	rules, gen := g.rules, g.generation
	g.mu.Unlock()
	return Stats{
		Captured:        k[ctrCaptured],
		CaptureFailures: k[ctrCaptureFail],
		Killed:          k[ctrKilled],
		Audited:         k[ctrAudited],
		SignalFailures:  k[ctrSignalFail],
		RingDrops:       k[ctrRingDrops],
		RecursionMisses: misses,
		Received:        g.received.Load(),
		DecodeErrors:    g.decodeErrors.Load(),
		Rules:           rules,
		Generation:      gen,
	}
}

// Mechanisms describes, one line each, how the guard acts, for
// `vigil enforce status`.
func (g *Guard) Mechanisms() []string {
	st := g.Stats()
	argv := "argv capture: off"
	if !g.cfg.SkipArgv {
		argv = fmt.Sprintf("argv capture: raw_tracepoint sys_enter/sys_exit on execve and execveat, "+
			"up to %d execs in flight (filename %d B, argv %d B / %d args, truncation flagged)",
			g.cfg.PendingEntries, filenameMax-1, argsMax, argcMax)
	}
	kill := "in-kernel kill: off"
	if !g.cfg.SkipKill {
		kill = fmt.Sprintf("in-kernel kill: raw_tracepoint sched_process_exec + bpf_send_signal(SIGKILL), "+
			"before the new image runs; %d rules by comm or (dev, ino), deny set generation %d; "+
			"pid %d and protected tgids exempt", st.Rules, st.Generation, g.cfg.IgnorePID)
	}
	return []string{argv, kill}
}
