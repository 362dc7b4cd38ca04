package pipeline

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/proc"
)

func TestDefaults(t *testing.T) {
	p := New(Config{})
	defer p.Close()
	st := p.Stats()
	if p.Shards() != runtime.NumCPU() || len(st.Shards) != p.Shards() || st.Shards[0].QueueCap != DefaultQueueLen {
		t.Fatalf("shards %d, stats %+v", p.Shards(), st.Shards)
	}
}

// TestOrderPerPID submits numbered events for many pids from several
// goroutines and checks that each pid's events arrive complete, in order
// and always on the same shard.
func TestOrderPerPID(t *testing.T) {
	const pids, perPID, submitters = 200, 300, 4
	var next [pids]uint64 // each pid is touched by one worker only; -race checks that
	var shardOf [pids]int
	var bad atomic.Int64
	p := New(Config{Shards: 4, QueueLen: 64, Handler: func(shard int, ev *event.Event) {
		i := ev.PID
		if next[i] == 0 {
			shardOf[i] = shard
		}
		if ev.Timestamp != next[i] || shardOf[i] != shard {
			bad.Add(1)
		}
		next[i] = ev.Timestamp + 1
	}})
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var retries atomic.Int64
	for g := 0; g < submitters; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := uint64(0); seq < perPID; seq++ {
				for pid := uint32(g); pid < pids; pid += submitters {
					// A full queue drops the event; resubmit the same
					// number so the sequence has no gaps.
					for !p.Submit(newEvent(event.KindOpen, pid, seq)) {
						retries.Add(1)
						runtime.Gosched()
					}
				}
			}
		}()
	}
	wg.Wait()
	p.Close()

	if n := bad.Load(); n != 0 {
		t.Fatalf("%d events out of order or on the wrong shard", n)
	}
	for pid := range next {
		if next[pid] != perPID {
			t.Fatalf("pid %d: got %d events, want %d", pid, next[pid], perPID)
		}
	}
	st := p.Stats()
	if st.Processed != pids*perPID || st.Submitted != pids*perPID || st.Dropped != uint64(retries.Load()) {
		t.Fatalf("stats %+v, retries %d", st, retries.Load())
	}
}

// TestFullQueueDrops fills both queues behind a blocked handler and checks
// that further submissions fail at once and are counted exactly.
func TestFullQueueDrops(t *testing.T) {
	entered := make(chan int, 2)
	unblock := make(chan struct{})
	p := New(Config{Shards: 2, QueueLen: 4, Handler: func(shard int, ev *event.Event) {
		if ev.Timestamp == 0 { // the first event of each shard parks its worker
			entered <- shard
			<-unblock
		}
	}})
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// pid 0 is on shard 0, pid 1 on shard 1.
	p.Submit(newEvent(event.KindOpen, 0, 0))
	p.Submit(newEvent(event.KindOpen, 1, 0))
	<-entered
	<-entered

	within(t, 5*time.Second, "Submit on full queues", func() {
		for i := 1; i <= 4; i++ {
			if !p.Submit(newEvent(event.KindOpen, 0, 1)) || !p.Submit(newEvent(event.KindExec, 1, 1)) {
				t.Errorf("submission %d refused with room in the queue", i)
			}
		}
		for i := 0; i < 3; i++ {
			if p.Submit(newEvent(event.KindOpen, 2, 1)) {
				t.Error("shard 0 accepted an event while full")
			}
		}
		for i := 0; i < 2; i++ {
			if p.Submit(newEvent(event.KindSocket, 3, 1)) {
				t.Error("shard 1 accepted an event while full")
			}
		}
		if p.Submit(newEvent(event.Kind(99), 5, 1)) {
			t.Error("shard 1 accepted an event of unknown kind while full")
		}
	})

	st := p.Stats()
	s0, s1 := st.Shards[0], st.Shards[1]
	if s0.Dropped != 3 || s1.Dropped != 3 || s0.QueueDepth != 4 || s1.QueueDepth != 4 ||
		s0.Submitted != 5 || s1.Submitted != 5 || st.Dropped != 6 {
		t.Fatalf("stats %+v", st)
	}
	want := map[event.Kind]uint64{event.KindOpen: 3, event.KindSocket: 2, event.KindInvalid: 1}
	if len(st.DroppedByKind) != len(want) {
		t.Fatalf("dropped by kind %v, want %v", st.DroppedByKind, want)
	}
	for k, n := range want {
		if st.DroppedByKind[k] != n {
			t.Fatalf("dropped by kind %v, want %v", st.DroppedByKind, want)
		}
	}

	close(unblock)
	within(t, 5*time.Second, "Close", p.Close)
	if st := p.Stats(); st.Processed != 10 || st.QueueDepth != 0 {
		t.Fatalf("after close %+v", st)
	}
}

// TestForkRoutedByChild checks that a fork goes to the child's shard, so
// the child's own events follow it in order, and that the table ends up
// right.
func TestForkRoutedByChild(t *testing.T) {
	type seen struct {
		shard int
		kind  event.Kind
	}
	var mu sync.Mutex
	var got []seen
	tbl := proc.New()
	p := New(Config{Shards: 4, Table: tbl, Handler: func(shard int, ev *event.Event) {
		if ev.Kind == event.KindExec {
			// The table was updated before the handler ran.
			if pr, ok := tbl.Get(ev.PID); !ok || pr.Comm != "child" {
				t.Errorf("table not updated before the handler: %+v", pr)
			}
		}
		mu.Lock()
		got = append(got, seen{shard, ev.Kind})
		mu.Unlock()
	}})

	fork := newEvent(event.KindFork, 10, 0) // parent 10 is on shard 2
	fork.Fork.ChildPID, fork.Fork.ChildTID = 13, 13
	if s := p.ShardOf(fork); s != 1 {
		t.Fatalf("fork routed to shard %d, want the child's shard 1", s)
	}
	exec := newEvent(event.KindExec, 13, 1)
	exec.PPID = 10
	exec.Comm = "child"
	exec.Exec.Exe = "/bin/child"
	exit := newEvent(event.KindExit, 13, 2)

	for _, ev := range []*event.Event{fork, exec, exit} {
		if !p.Submit(ev) {
			t.Fatal("refused")
		}
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.Close()

	want := []seen{{1, event.KindFork}, {1, event.KindExec}, {1, event.KindExit}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v want %v", got, want)
		}
	}
	if tbl.Len() != 0 {
		t.Fatalf("table holds %d entries after the child exited", tbl.Len())
	}
	if s := tbl.Stats(); s.Created != 1 || s.Execs != 1 || s.Exited != 1 {
		t.Fatalf("table stats %+v", s)
	}
}

func TestCloseDrains(t *testing.T) {
	var handled atomic.Int64
	p := New(Config{Shards: 2, QueueLen: 1000, Handler: func(int, *event.Event) {
		time.Sleep(10 * time.Microsecond) // slower than the submitter
		handled.Add(1)
	}})
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		if !p.Submit(newEvent(event.KindOpen, uint32(i), 0)) {
			t.Fatalf("event %d refused", i)
		}
	}
	within(t, 10*time.Second, "Close", p.Close)
	if handled.Load() != 1000 {
		t.Fatalf("Close returned after %d of 1000 events", handled.Load())
	}
	st := p.Stats()
	if st.Processed != 1000 || st.QueueDepth != 0 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
	// Closing again is harmless and submitting afterwards is a counted drop.
	p.Close()
	if p.Submit(newEvent(event.KindExec, 1, 0)) {
		t.Fatal("Submit after Close succeeded")
	}
	if st := p.Stats(); st.Dropped != 1 || st.DroppedByKind[event.KindExec] != 1 {
		t.Fatalf("stats %+v", st)
	}
	if err := p.Start(context.Background()); err != ErrStarted {
		t.Fatalf("Start after Close: %v", err)
	}
}

func TestCloseWithoutStart(t *testing.T) {
	var handled atomic.Int64
	p := New(Config{Shards: 2, Handler: func(int, *event.Event) { handled.Add(1) }})
	for i := 0; i < 10; i++ {
		p.Submit(newEvent(event.KindOpen, uint32(i), 0))
	}
	within(t, 5*time.Second, "Close", p.Close)
	st := p.Stats()
	if handled.Load() != 0 || st.Submitted != 10 || st.Dropped != 10 || st.QueueDepth != 0 {
		t.Fatalf("handled %d, stats %+v", handled.Load(), st)
	}
}

func TestStartTwice(t *testing.T) {
	p := New(Config{Shards: 1})
	defer p.Close()
	var never context.Context // nil: the pipeline only stops on Close
	if err := p.Start(never); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != ErrStarted {
		t.Fatalf("second Start: %v", err)
	}
}

func TestContextCancelCloses(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := New(Config{Shards: 2})
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	p.Submit(newEvent(event.KindOpen, 1, 0))
	cancel()
	within(t, 5*time.Second, "shutdown after cancel", func() {
		for p.Submit(newEvent(event.KindOpen, 1, 0)) {
			time.Sleep(time.Millisecond)
		}
		p.Close()
	})
	if st := p.Stats(); st.Submitted != st.Processed {
		t.Fatalf("stats %+v", st)
	}
}

func TestSubmitNil(t *testing.T) {
	p := New(Config{Shards: 1})
	defer p.Close()
	if p.Submit(nil) || p.ShardOf(nil) != 0 {
		t.Fatal("nil event accepted")
	}
	if st := p.Stats(); st.Submitted != 0 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestSubmitRacesClose submits from many goroutines while the pipeline
// closes: nothing may panic (a send on a closed channel would), and every
// event must be either processed or counted as dropped.
func TestSubmitRacesClose(t *testing.T) {
	for round := 0; round < 20; round++ {
		p := New(Config{Shards: 3, QueueLen: 16})
		if err := p.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var attempts atomic.Uint64
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 500; i++ {
					attempts.Add(1)
					p.Submit(newEvent(event.KindOpen, uint32(g*1000+i), 0))
				}
			}()
		}
		time.Sleep(time.Duration(round*20) * time.Microsecond)
		p.Close()
		wg.Wait()
		st := p.Stats()
		if st.Submitted != st.Processed || st.Submitted+st.Dropped != attempts.Load() {
			t.Fatalf("round %d: stats %+v, attempts %d", round, st, attempts.Load())
		}
	}
}

func TestConfigClamped(t *testing.T) {
	p := New(Config{Shards: 1 << 30, QueueLen: 1 << 40})
	defer p.Close()
	st := p.Stats()
	if p.Shards() != maxShards || st.Shards[0].QueueCap*maxShards > maxTotalQueued {
		t.Fatalf("shards %d, queue cap %d", p.Shards(), st.Shards[0].QueueCap)
	}
	p2 := New(Config{Shards: 1, QueueLen: 1 << 40})
	defer p2.Close()
	if c := p2.Stats().Shards[0].QueueCap; c != maxQueueLen {
		t.Fatalf("queue cap %d", c)
	}
}

// TestPipelineKeepsTableBounded drives fork, exec and exit for thousands of
// short-lived children through the pipeline from two submitters and checks
// that the table ends where it started.
func TestPipelineKeepsTableBounded(t *testing.T) {
	tbl := proc.New()
	for _, pid := range []uint32{1, 100, 200} {
		ev := event.New()
		ev.Kind, ev.PID, ev.Comm = event.KindExec, pid, "sh"
		tbl.Apply(ev)
		ev.Release()
	}
	baseline := tbl.Len()
	p := New(Config{Shards: 4, QueueLen: 32, Table: tbl})
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	submit := func(make func() *event.Event) {
		for !p.Submit(make()) {
			runtime.Gosched() // resubmitting before moving on keeps the order
		}
	}
	var wg sync.WaitGroup
	for g, parent := range []uint32{100, 200} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				child := uint32(1000 + g*5000 + i)
				submit(func() *event.Event {
					ev := newEvent(event.KindFork, parent, 0)
					ev.Fork.ChildPID = child
					return ev
				})
				submit(func() *event.Event {
					ev := newEvent(event.KindExec, child, 0)
					ev.PPID, ev.Comm, ev.Exec.Exe = parent, "true", "/bin/true"
					return ev
				})
				submit(func() *event.Event { return newEvent(event.KindExit, child, 0) })
			}
		}()
	}
	wg.Wait()
	p.Close()
	if tbl.Len() != baseline {
		t.Fatalf("table holds %d entries, baseline %d", tbl.Len(), baseline)
	}
	if s := tbl.Stats(); s.Created != 2000+3 || s.Exited != 2000 {
		t.Fatalf("table stats %+v", s)
	}
}

// TestFullWaitAbsorbsBursts submits ten queues' worth of events to a slow
// worker at once: with FullWait every one gets in, without it most drop.
func TestFullWaitAbsorbsBursts(t *testing.T) {
	for _, wait := range []time.Duration{0, 5 * time.Second} {
		p := New(Config{Shards: 1, QueueLen: 8, FullWait: wait, Handler: func(int, *event.Event) {
			time.Sleep(50 * time.Microsecond)
		}})
		if err := p.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		accepted := 0
		for i := range 80 {
			if p.Submit(newEvent(event.KindOpen, 0, uint64(i))) {
				accepted++
			}
		}
		p.Close()
		st := p.Stats()
		if wait == 0 && (accepted == 80 || st.Dropped != uint64(80-accepted) || st.FullWaits != 0) {
			t.Errorf("no wait: %d accepted, stats %+v", accepted, st)
		}
		if wait > 0 && (accepted != 80 || st.Dropped != 0 || st.Processed != 80 || st.FullWaits == 0) {
			t.Errorf("with FullWait: %d accepted, stats %+v", accepted, st)
		}
	}
}

// TestFullWaitGivesUpOnAStuckWorker checks that a stuck shard costs one
// wait, not one per event, and that it waits again once it moves.
func TestFullWaitGivesUpOnAStuckWorker(t *testing.T) {
	entered := make(chan struct{})
	unblock := make(chan struct{})
	var once sync.Once
	p := New(Config{Shards: 1, QueueLen: 2, FullWait: 50 * time.Millisecond, Handler: func(int, *event.Event) {
		once.Do(func() { close(entered); <-unblock })
	}})
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.Submit(newEvent(event.KindOpen, 0, 0))
	<-entered
	p.Submit(newEvent(event.KindOpen, 0, 1))
	p.Submit(newEvent(event.KindOpen, 0, 2)) // the queue is full now
	if p.Submit(newEvent(event.KindOpen, 0, 3)) {
		t.Fatal("a stuck, full queue accepted an event")
	}
	for i := range 100 {
		if p.Submit(newEvent(event.KindOpen, 0, uint64(4+i))) {
			t.Fatal("a stalled queue accepted an event")
		}
	}
	if st := p.Stats(); st.FullWaits != 1 || st.Dropped != 101 {
		t.Errorf("stalled shard: stats %+v, want one wait and 101 drops", st)
	}
	close(unblock)
	retries := 0
	within(t, 5*time.Second, "room after the worker moved", func() {
		for !p.Submit(newEvent(event.KindOpen, 0, 200)) {
			retries++
			time.Sleep(time.Millisecond)
		}
	})
	// Accepted again: the shard is no longer stalled.
	p.Submit(newEvent(event.KindOpen, 0, 201))
	p.Submit(newEvent(event.KindOpen, 0, 202))
	p.Close()
	if st := p.Stats(); st.Dropped != uint64(101+retries) || st.Processed != 6 {
		t.Errorf("stats %+v after %d retries", st, retries)
	}
}
