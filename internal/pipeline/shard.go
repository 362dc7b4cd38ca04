package pipeline

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil/internal/event"
)

// kindSlots is how many event kinds get their own drop counter; kinds at
// or beyond it (from a newer decoder) are counted under KindInvalid.
const kindSlots = 8

// shard is one queue, its worker's parking spot and its counters. The
// submitters' fields and the worker's are padded apart so that the two
// sides do not bounce one cache line between them.
type shard struct {
	r       *ring
	dropped [kindSlots]atomic.Uint64
	// stalled is set when the queue stayed full for Config.FullWait, and
	// cleared by the next event the queue accepts.
	stalled   atomic.Bool
	fullWaits atomic.Uint64 // submissions that found the queue full and waited
	_         [40]byte

	// Worker side. sleeping is read by every Submit but written only when
	// the worker parks or wakes.
	sleeping atomic.Bool
	end      atomic.Uint64 // with ringClosed set: the ring is closed and ends here
	wake     chan struct{} // capacity 1: a pending wake-up is never lost
	// handled is how many of this ring's events are completely handled;
	// as a ring position, it is what other shards' forks wait for.
	handled atomic.Uint64
	_       [32]byte
}

func (s *shard) drop(k event.Kind) {
	if int(k) >= kindSlots {
		k = event.KindInvalid
	}
	s.dropped[k].Add(1)
}

// Submit queues ev for its shard and returns true, or, if the shard's
// queue is full or the pipeline is closed, releases ev, counts it as
// dropped and returns false. It takes no lock. With Config.FullWait it may
// wait that long for room in a full queue (once per stall of a worker);
// without, it never waits. Either way the caller must not touch ev
// afterwards.
//
// A fork is handled on the child's shard, but the parent's history (its
// own creation, its exec) is on the parent's. So that the child is built
// from the parent as it was at the fork, and so that a handler for the
// child always finds its parent in the table, a fork is not handled until
// the parent's shard has handled everything submitted before the fork.
// These waits only ever point at events submitted earlier, so they cannot
// form a cycle.
func (p *Pipeline) Submit(ev *event.Event) bool {
	if ev == nil {
		return false
	}
	i := p.ShardOf(ev)
	s := &p.shards[i]
	it := item{ev: ev}
	if ev.Kind == event.KindFork && !ev.Fork.IsThread {
		if ps := p.shardOfPID(ev.PID); ps != i {
			it.afterShrd, it.afterPos = uint32(ps), p.shards[ps].r.submitted()
		}
	}
	if ok, closed := s.r.push(it); !ok && (closed || !p.waitForRoom(s, it)) {
		s.drop(ev.Kind)
		ev.Release()
		return false
	}
	if s.stalled.Load() {
		s.stalled.Store(false)
	}
	// The worker announces that it parks before it checks the ring a last
	// time, and we check after pushing, so one of us sees the other. In
	// batch mode a small backlog waits for Flush or for the batch to fill.
	if s.sleeping.Load() && (!p.batch || s.r.len() >= WakeBatch) {
		s.signal()
	}
	return true
}

// waitForRoom retries a push into s's full queue for up to FullWait,
// waking the worker first, and reports whether it went in.
func (p *Pipeline) waitForRoom(s *shard, it item) bool {
	if p.fullWait <= 0 || s.stalled.Load() {
		return false
	}
	s.fullWaits.Add(1)
	s.signal()
	deadline := time.Now().Add(p.fullWait)
	for spin := 0; ; spin++ {
		ok, closed := s.r.push(it)
		switch {
		case ok:
			return true
		case closed:
			return false
		case time.Now().After(deadline):
			s.stalled.Store(true)
			return false
		case spin < 64:
			runtime.Gosched()
		default:
			time.Sleep(20 * time.Microsecond)
		}
	}
}

func (s *shard) signal() {
	select {
	case s.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// work is shard i's worker: it applies each event to the table, runs the
// handler and releases the event, until the ring is closed and drained.
func (p *Pipeline) work(i int) {
	defer p.workers.Done()
	s := &p.shards[i]
	handle := func(it item) { p.handle(s, i, it) }
	for {
		if it, ok := s.r.pop(); ok {
			handle(it)
			continue
		}
		s.sleeping.Store(true)
		if it, ok := s.r.pop(); ok {
			s.sleeping.Store(false)
			handle(it)
			continue
		}
		if end := s.end.Load(); end != 0 {
			s.r.drainTo(end&^ringClosed, handle)
			return
		}
		<-s.wake
		s.sleeping.Store(false)
	}
}

func (p *Pipeline) handle(s *shard, i int, it item) {
	if it.afterPos != 0 {
		p.waitHandled(int(it.afterShrd), it.afterPos)
	}
	if p.table != nil {
		p.table.Apply(it.ev)
	}
	if p.handler != nil {
		p.handler(i, it.ev)
	}
	it.ev.Release()
	s.handled.Add(1)
}

// waitHandled returns once shard i has handled its first pos events. The
// other worker is usually a few events behind at most, so yielding is
// enough; a long wait (its handler is slow, or it is starved of CPU)
// backs off to sleeping so as not to burn a core.
func (p *Pipeline) waitHandled(i int, pos uint64) {
	h := &p.shards[i].handled
	for spins := 0; h.Load() < pos; spins++ {
		if spins < 1000 {
			runtime.Gosched()
		} else {
			time.Sleep(20 * time.Microsecond)
		}
	}
}
