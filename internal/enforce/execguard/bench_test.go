package execguard

import (
	"os/exec"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/testutil"
)

// guardStates are the configurations each benchmark compares: nothing
// attached, argv capture only, and argv capture plus the kill check with a
// deny set that does not match.
var guardStates = []struct {
	name  string
	open  bool
	cfg   Config
	rules []KillRule
}{
	{"detached", false, Config{}, nil},
	{"argv", true, Config{SkipKill: true}, nil},
	{"argv+kill", true, Config{}, []KillRule{{ID: 1, Comm: "vg-no-such"}, {ID: 2, Dev: 1, Ino: 1}}},
}

func benchGuard(b *testing.B, run func(b *testing.B)) {
	testutil.RequireBPF(b)
	// The kernel times every BPF program run while this is held.
	stats, err := ebpf.EnableStats(0 /* BPF_STATS_RUN_TIME */)
	if err != nil {
		b.Fatalf("enable BPF run-time stats: %v", err)
	}
	defer stats.Close()
	for _, s := range guardStates {
		b.Run(s.name, func(b *testing.B) {
			var progs map[string]*ebpf.Program
			if s.open {
				g, err := Open(s.cfg)
				if err != nil {
					b.Fatal(err)
				}
				defer g.Close()
				if err := g.SetKillRules(s.rules); err != nil {
					b.Fatal(err)
				}
				progs = map[string]*ebpf.Program{"enter": g.objs.ExecguardSysEnter, "exit": g.objs.ExecguardSysExit}
				if !s.cfg.SkipKill {
					progs["exec"] = g.objs.ExecguardExec
				}
			}
			before := cpuTime(b)
			run(b)
			// Wall time on a shared machine counts the time other tasks ran;
			// CPU time (ours and our reaped children's) does not.
			b.ReportMetric(float64(cpuTime(b)-before)/float64(b.N), "cpu-ns/op")
			// Each program's mean time per run, over every run on the
			// machine: the hook cost on top of the tracepoint itself.
			for name, p := range progs {
				st, err := p.Stats()
				if err != nil || st.RunCount == 0 {
					continue
				}
				b.ReportMetric(float64(st.Runtime.Nanoseconds())/float64(st.RunCount), name+"-ns/run")
			}
		})
	}
}

// BenchmarkGetpid is the fixed cost the sys_enter/sys_exit programs add
// to every syscall that is not an exec.
func BenchmarkGetpid(b *testing.B) {
	benchGuard(b, func(b *testing.B) {
		for b.Loop() {
			unix.Getpid()
		}
	})
}

// BenchmarkForkExecTrue is the cost on an exec: argv copy, pending map
// update and delete, and the deny-set lookups.
func BenchmarkForkExecTrue(b *testing.B) {
	benchGuard(b, func(b *testing.B) {
		for b.Loop() {
			if err := exec.Command("/bin/true", "arg1", "arg2").Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// cpuTime is the user and system time of this process and its reaped
// children, in nanoseconds.
func cpuTime(b *testing.B) int64 {
	var total int64
	for _, who := range []int{unix.RUSAGE_SELF, unix.RUSAGE_CHILDREN} {
		var ru unix.Rusage
		if err := unix.Getrusage(who, &ru); err != nil {
			b.Fatal(err)
		}
		total += ru.Utime.Nano() + ru.Stime.Nano()
	}
	return total
}
