package proc

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestChurnReturnsToBaseline runs fork, exec and exit cycles from several
// goroutines while others read, and checks that nothing is left behind.
func TestChurnReturnsToBaseline(t *testing.T) {
	tbl := New()
	for _, pid := range []uint32{1, 100, 200, 300, 400} {
		ev, _ := execEvent(execSpec{pid: pid, ppid: 1, comm: "sh", exe: "/bin/sh", args: "sh", cwd: "/"})
		if pid == 1 {
			ev.PPID = 0
		}
		apply(tbl, ev)
	}
	baseline, before := tbl.Len(), tbl.Stats()

	const workers, cycles = 4, 500 // 2,000 cycles in all
	var wg sync.WaitGroup
	var stop atomic.Bool
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() { // readers hammer the same pids
			defer wg.Done()
			var buf []Process
			for !stop.Load() {
				for pid := uint32(1000); pid < 1100; pid++ {
					if p, ok := tbl.Get(pid); ok && p.Comm == "" {
						t.Error("entry without comm")
					}
					buf = tbl.AppendAncestors(buf[:0], pid, 0)
				}
			}
		}()
	}
	var writers sync.WaitGroup
	for w := 0; w < workers; w++ {
		writers.Add(1)
		go func() {
			defer writers.Done()
			parent := uint32(100 * (w + 1))
			for i := 0; i < cycles; i++ {
				// Pids wrap inside a small range so reuse happens too.
				child := 1000 + uint32(w*25+i%25)
				apply(tbl, forkEvent(parent, 1, child, false))
				ev, _ := execEvent(execSpec{pid: child, ppid: parent, comm: "ls", exe: "/bin/ls", args: "ls\x00-la", cwd: "/"})
				apply(tbl, ev)
				apply(tbl, exitEvent(child, parent))
			}
		}()
	}
	writers.Wait()
	stop.Store(true)
	wg.Wait()

	if got := tbl.Len(); got != baseline {
		t.Fatalf("Len = %d after churn, baseline %d", got, baseline)
	}
	s := tbl.Stats()
	if s.Created-before.Created != workers*cycles || s.Exited != workers*cycles || s.Entries != baseline {
		t.Fatalf("stats %+v", s)
	}
}
