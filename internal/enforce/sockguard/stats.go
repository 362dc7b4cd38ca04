package sockguard

import (
	"fmt"
	"strings"
)

// Stats counts the programs' work. Checks is every connect or sendmsg the
// hooks saw; each ends as exactly one of Allowed, Blocked, Audited or Exempt
// (a protected process).
type Stats struct {
	Checks, Allowed, Blocked, Audited, Exempt uint64
	// RingDrops counts decisions lost because the ring buffer was full;
	// the verdict itself was still enforced.
	RingDrops uint64
	// Received and DecodeErrors count what Run read.
	Received, DecodeErrors uint64
}

// Per-CPU counter indexes (SG_CNT_* in bpf/sockguard.h).
const (
	cntChecks = iota
	cntAllowed
	cntBlocked
	cntAudited
	cntExempt
	cntRingDrops
	cntMax
)

// Stats returns the counters. After Close it returns their last values.
func (g *Guard) Stats() Stats {
	g.mu.Lock()
	st := g.finalStats
	if !g.closing.Load() {
		st = g.kernelStats()
	}
	g.mu.Unlock()
	st.Received = g.received.Load()
	st.DecodeErrors = g.decodeErrors.Load()
	return st
}

func (g *Guard) kernelStats() Stats {
	var n [cntMax]uint64
	for i := range n {
		var perCPU []uint64
		if err := g.objs.Counters.Lookup(uint32(i), &perCPU); err != nil {
			continue
		}
		for _, v := range perCPU {
			n[i] += v
		}
	}
	return Stats{
		Checks: n[cntChecks], Allowed: n[cntAllowed], Blocked: n[cntBlocked],
		Audited: n[cntAudited], Exempt: n[cntExempt], RingDrops: n[cntRingDrops],
	}
}

// Status describes the mechanism for `vigil enforce status`.
type Status struct {
	Hooks      []string // attached programs, e.g. "cgroup/connect4"
	CgroupRoot string
	Rules      int // rules in the applied policy
	Entries    int // policy trie entries they compiled to
	Containers int // registered container cgroups
	Protected  int // protected processes, the agent included
}

// String returns one line for `vigil enforce status`.
func (s Status) String() string {
	return fmt.Sprintf("network: %s on %s; %d rules (%d entries), %d containers, %d protected processes",
		strings.Join(s.Hooks, ", "), s.CgroupRoot, s.Rules, s.Entries, s.Containers, s.Protected)
}

// Status returns what is attached and loaded now.
func (g *Guard) Status() Status {
	g.mu.Lock()
	defer g.mu.Unlock()
	return Status{
		Hooks:      append([]string(nil), g.hooks...),
		CgroupRoot: g.cfg.CgroupRoot,
		Rules:      g.rules,
		Entries:    g.entries,
		Containers: len(g.containers),
		Protected:  len(g.protected),
	}
}
