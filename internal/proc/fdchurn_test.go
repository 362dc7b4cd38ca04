package proc

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/event"
)

// TestFDChurnLeavesNoStaleEntries runs 10,000 opens and closes across 100
// processes forked from one parent, each inheriting the parent's fds and
// closing one of them, then lets them all exit. The parent's table must be
// exactly what it opened, the children's entries gone, the live fd count
// back to the parent's, and the children's tables garbage once the
// graveyard has moved on.
func TestFDChurnLeavesNoStaleEntries(t *testing.T) {
	tab := New()
	var c fdClock
	apply(tab, c.exec(1000, 1))
	for fd := range int64(3) {
		apply(tab, c.open(1000, fmt.Sprintf("/dev/pts/%d", fd), 0, fd))
	}
	apply(tab, c.open(1000, "/var/log/parent.log", 0, 3))
	baseline := tab.Stats().FDs
	if baseline != 4 {
		t.Fatalf("parent has %d fds", baseline)
	}

	var freed atomic.Int32
	const children, perChild = 100, 50 // 100 * 50 opens and as many closes
	for i := range uint32(children) {
		pid := 2000 + i
		apply(tab, c.fork(1000, pid))
		runtime.AddCleanup(mustGet(t, tab, pid).Files, func(int) { freed.Add(1) }, 0)
		inherited := fds(t, tab, pid)
		wantFD(t, inherited, 3, FDFile, "/var/log/parent.log", false)
		apply(tab, c.sys(pid, "close", 0, 3))
		for k := range perChild {
			fd := int64(4 + k%3)
			apply(tab, c.open(pid, fmt.Sprintf("/tmp/c%d/%d", i, k), 0, fd))
			apply(tab, c.sys(pid, "close", 0, uint64(fd)))
		}
		if n := fds(t, tab, pid).Len(); n != 3 {
			t.Fatalf("child %d has %d fds after its churn", pid, n)
		}
	}
	if st := tab.Stats(); st.FDs != baseline+3*children {
		t.Fatalf("%d fds with every child alive, want %d", st.FDs, baseline+3*children)
	}
	for i := range uint32(children) {
		apply(tab, exitEvent(2000+i, 1000))
	}
	st := tab.Stats()
	if st.FDs != baseline || st.Entries != 1 || st.FDsDropped != 0 || st.FDForkStale != 0 {
		t.Fatalf("after the children exited: %+v", st)
	}
	s := fds(t, tab, 1000)
	if s.Len() != 4 {
		t.Fatalf("the parent's table changed: %d fds", s.Len())
	}
	wantFD(t, s, 3, FDFile, "/var/log/parent.log", false)

	// The graveyard keeps the last exits of each shard for late forks;
	// enough later exits push the children out, and then nothing holds
	// their tables.
	for pid := uint32(10000); pid < 10000+numShards*graveSlots*2; pid++ {
		apply(tab, c.exec(pid, 1))
		apply(tab, exitEvent(pid, 1))
	}
	deadline := time.Now().Add(5 * time.Second)
	for freed.Load() < children && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if n := freed.Load(); n != children {
		t.Fatalf("%d of %d exited children's fd tables were freed", n, children)
	}
	if st := tab.Stats(); st.FDs != baseline || st.Entries != 1 {
		t.Fatalf("final stats %+v", st)
	}
}

// TestFDTablesBoundedUnderForkStorm forks many children of a parent with
// many fds: forks share the parent's trie, so the work per fork does not
// grow with the parent's fds, and the count is what the children hold.
func TestFDTablesBoundedUnderForkStorm(t *testing.T) {
	tab := New()
	var c fdClock
	apply(tab, c.exec(1000, 1))
	for fd := range int64(1000) {
		apply(tab, c.open(1000, "/data/shard", 0, fd))
	}
	for i := range uint32(5000) {
		apply(tab, c.fork(1000, 20000+i))
	}
	if st := tab.Stats(); st.FDs != 1000*5001 || st.Entries != 5001 {
		t.Fatalf("stats %+v", st)
	}
	// The children share the parent's nodes rather than copies of them.
	parent := mustGet(t, tab, 1000).Files.head.Load().set
	for _, pid := range []uint32{20000, 22500, 24999} {
		child := mustGet(t, tab, pid).Files.head.Load().set
		for i := range child.root.slot {
			if child.root.slot[i] != parent.root.slot[i] {
				t.Fatalf("child %d has its own copy of subtree %d", pid, i)
			}
		}
	}
	for i := range uint32(5000) {
		ev := event.New()
		ev.Kind, ev.PID = event.KindExit, 20000+i
		apply(tab, ev)
	}
	if st := tab.Stats(); st.FDs != 1000 {
		t.Fatalf("after the storm: %+v", st)
	}
}

// TestFDTableConcurrentReaders reads a process's fds from other
// goroutines while its worker changes them and forks: readers see whole
// versions, never a torn one (run with -race).
func TestFDTableConcurrentReaders(t *testing.T) {
	tab := New()
	var c fdClock
	apply(tab, c.exec(100, 1))
	done := make(chan struct{})
	var reads atomic.Int64
	for range 3 {
		go func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				p, ok := tab.Get(100)
				if !ok {
					continue
				}
				s := p.Files.Current()
				n := 0
				s.Each(func(fd int32, e *FD, _ bool) bool {
					if e.Type != FDFile || e.Name == "" {
						panic("torn entry")
					}
					n++
					return true
				})
				if n != s.Len() {
					panic("count and entries disagree")
				}
				old, _ := p.Files.At(2_500_000) // some version in the history
				old.Lookup(3)
				reads.Add(1)
			}
		}()
	}
	for i := range 5000 {
		fd := uint64(3 + i%40)
		apply(tab, c.open(100, fmt.Sprintf("/f/%d", i), 0, int64(fd)))
		if i%7 == 0 {
			apply(tab, c.sys(100, "close", 0, fd))
		}
		if i%100 == 0 {
			child := uint32(1000 + i)
			apply(tab, c.fork(100, child))
			apply(tab, exitEvent(child, 100))
		}
	}
	close(done)
	if reads.Load() == 0 {
		t.Log("readers did not get to run")
	}
}
