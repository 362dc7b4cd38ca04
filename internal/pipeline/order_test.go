package pipeline

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/proc"
)

// TestForkWaitsForParentShard holds back the parent's shard and checks
// that the child's shard does not handle the fork until the parent's exec,
// submitted earlier, has been applied: the child must be built from the
// parent as it was at the fork, and its handler must find the parent.
func TestForkWaitsForParentShard(t *testing.T) {
	tbl := proc.New()
	entered := make(chan struct{})
	unblock := make(chan struct{})
	var parentAtFork atomic.Value
	p := New(Config{Shards: 2, Table: tbl, Handler: func(shard int, ev *event.Event) {
		switch {
		case ev.Timestamp == 999: // parks shard 0 with the parent's exec behind it
			close(entered)
			<-unblock
		case ev.Kind == event.KindFork:
			pr, _ := tbl.Get(ev.PID)
			parentAtFork.Store(pr.Exe)
		}
	}})
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.Submit(newEvent(event.KindOpen, 0, 999))
	<-entered

	exec := newEvent(event.KindExec, 10, 1) // shard 0
	exec.PPID, exec.Comm, exec.Exec.Exe = 1, "parent", "/bin/parent"
	fork := newEvent(event.KindFork, 10, 2) // handled on shard 1, the child's
	fork.PPID, fork.Fork.ChildPID = 1, 11
	other := newEvent(event.KindOpen, 21, 3) // shard 1, behind the fork
	for _, ev := range []*event.Event{exec, fork, other} {
		if !p.Submit(ev) {
			t.Fatal("refused")
		}
	}

	time.Sleep(50 * time.Millisecond)
	if st := p.Stats(); st.Shards[1].Processed != 0 {
		t.Fatalf("shard 1 ran ahead of the parent's shard: %+v", st.Shards[1])
	}
	if _, ok := tbl.Get(11); ok {
		t.Fatal("child created before the parent's exec was applied")
	}
	close(unblock)
	within(t, 5*time.Second, "Close", p.Close)

	child, ok := tbl.Get(11)
	if !ok || child.Exe != "/bin/parent" || child.Comm != "parent" || child.PPID != 10 {
		t.Fatalf("child %+v", child)
	}
	if got := parentAtFork.Load(); got != "/bin/parent" {
		t.Fatalf("handler saw the parent as %v", got)
	}
	if got := tbl.AppendAncestors(nil, 11, 0); len(got) != 1 || got[0].PID != 10 {
		t.Fatalf("ancestors %+v", got)
	}
}

// TestForkWaitsCannotDeadlock throws random forks between many pids at a
// pipeline with tiny queues from several goroutines: every cross-shard
// fork waits on another shard, and everything must still drain.
func TestForkWaitsCannotDeadlock(t *testing.T) {
	p := New(Config{Shards: 4, QueueLen: 8, Table: proc.New()})
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var attempts atomic.Uint64
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for i := 0; i < 3000; i++ {
				var ev *event.Event
				if rng.IntN(2) == 0 {
					ev = newEvent(event.KindFork, 1+uint32(rng.IntN(64)), 0)
					ev.Fork.ChildPID = 1 + uint32(rng.IntN(64))
				} else {
					ev = newEvent(event.KindExit, 1+uint32(rng.IntN(64)), 0)
				}
				attempts.Add(1)
				p.Submit(ev)
			}
		}()
	}
	within(t, 30*time.Second, "submitting and closing", func() {
		wg.Wait()
		p.Close()
	})
	st := p.Stats()
	if st.Processed != st.Submitted || st.Submitted+st.Dropped != attempts.Load() {
		t.Fatalf("stats %+v, attempts %d", st, attempts.Load())
	}
}
