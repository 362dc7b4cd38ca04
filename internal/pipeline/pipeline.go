package pipeline

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/proc"
)

// DefaultQueueLen is the per-shard queue length used when Config.QueueLen is 0.
const DefaultQueueLen = 4096

// Upper bounds that keep a mistyped configuration from allocating
// gigabytes; larger values are clamped. A queued event holds its decode
// buffer too, so the total matters as much as the per-shard figure.
const (
	maxShards      = 1024
	maxQueueLen    = 1 << 20
	maxTotalQueued = 1 << 22
)

// Handler receives each event after the process table has seen it. It runs
// on the shard's worker goroutine and must not keep ev, or any string in it,
// after returning: the pipeline releases ev to the pool straight after.
type Handler func(shard int, ev *event.Event)

// Config configures a Pipeline. The zero value is usable: it gives one
// shard per CPU, DefaultQueueLen, no process table and no handler.
type Config struct {
	Shards   int         // number of workers; <= 0 means runtime.NumCPU(); at most 1024
	QueueLen int         // per-shard capacity, rounded up to a power of two (at least 2); <= 0 means DefaultQueueLen
	Table    *proc.Table // updated before Handler runs; nil to skip
	Handler  Handler     // nil to only update Table
	// BatchWakeups lets Submit leave a sleeping worker asleep until
	// WakeBatch events wait for it; the producer then calls Flush whenever
	// it runs out of input. One wake-up per batch instead of per event is
	// what keeps the agent's CPU per event low at high rates.
	BatchWakeups bool
	// FullWait is how long Submit may wait for room in a full queue before
	// it drops the event. A burst then stays in the producer's own buffer
	// (for the agent, the kernel ring buffer, which is far larger and
	// counts its own drops) instead of being lost here. A shard that is
	// still full after FullWait is marked stalled, and Submit drops at once
	// for it until it takes an event again, so one stuck worker cannot hold
	// up every other shard's events. 0 drops at once.
	FullWait time.Duration
}

// WakeBatch is how many queued events wake a sleeping worker when
// Config.BatchWakeups is set.
const WakeBatch = 64

// Pipeline is a sharded, bounded event pipeline. Submit may be called from
// any number of goroutines.
type Pipeline struct {
	shards   []shard
	table    *proc.Table
	handler  Handler
	batch    bool
	fullWait time.Duration

	mu      sync.Mutex // guards started and closed
	started bool
	closed  bool

	closeOnce sync.Once
	quit      chan struct{} // closed by Close; stops the context watcher
	workers   sync.WaitGroup
}

// ErrStarted is returned by Start when the pipeline was started or closed before.
var ErrStarted = errors.New("pipeline: already started or closed")

// New returns a pipeline ready to accept events; Start launches its workers.
// Events submitted before Start wait in the queues.
func New(cfg Config) *Pipeline {
	n := cfg.Shards
	if n <= 0 {
		n = runtime.NumCPU()
	}
	n = min(n, maxShards)
	qlen := cfg.QueueLen
	if qlen <= 0 {
		qlen = DefaultQueueLen
	}
	qlen = min(qlen, maxQueueLen, max(1, maxTotalQueued/n))
	p := &Pipeline{
		shards:   make([]shard, n),
		table:    cfg.Table,
		handler:  cfg.Handler,
		batch:    cfg.BatchWakeups,
		fullWait: cfg.FullWait,
		quit:     make(chan struct{}),
	}
	for i := range p.shards {
		p.shards[i].r = newRing(qlen)
		p.shards[i].wake = make(chan struct{}, 1)
	}
	return p
}

// Flush wakes every sleeping worker that has events waiting. A producer
// using Config.BatchWakeups calls it when its input runs dry.
func (p *Pipeline) Flush() {
	for i := range p.shards {
		s := &p.shards[i]
		if s.sleeping.Load() && s.r.len() > 0 {
			s.signal()
		}
	}
}

// Shards returns the number of shards.
func (p *Pipeline) Shards() int { return len(p.shards) }

// ShardOf returns the shard that handles ev: the one owning the process
// the event is about. For a fork that is the child, so that the fork which
// creates a pid and everything the new process does later are handled by
// the same worker, in order.
func (p *Pipeline) ShardOf(ev *event.Event) int {
	if ev == nil {
		return 0
	}
	if ev.Kind == event.KindFork {
		return p.shardOfPID(ev.Fork.ChildPID)
	}
	return p.shardOfPID(ev.PID)
}

func (p *Pipeline) shardOfPID(pid uint32) int {
	return int(pid % uint32(len(p.shards)))
}

// Start launches one worker per shard. When ctx is done the pipeline closes
// itself as if Close had been called. A nil ctx never ends.
func (p *Pipeline) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started || p.closed {
		return ErrStarted
	}
	p.started = true
	p.workers.Add(len(p.shards))
	for i := range p.shards {
		go p.work(i)
	}
	if ctx != nil {
		go func() {
			select {
			case <-ctx.Done():
				p.Close()
			case <-p.quit:
			}
		}()
	}
	return nil
}

// Close stops accepting events, lets the workers finish everything already
// queued, and returns once they have exited. If the pipeline was never
// started, queued events are released unprocessed and counted as dropped.
// Close may be called more than once and from several goroutines; every
// call waits for the shutdown to complete. It must not be called from a
// Handler, which would wait for its own worker.
func (p *Pipeline) Close() {
	p.closeOnce.Do(p.shutdown)
	p.workers.Wait()
}

func (p *Pipeline) shutdown() {
	p.mu.Lock()
	p.closed = true
	started := p.started
	p.mu.Unlock()
	close(p.quit)

	for i := range p.shards {
		s := &p.shards[i]
		end := s.r.close()
		if !started {
			// Nobody consumes the ring, so this goroutine may.
			s.r.drainTo(end, func(it item) {
				s.drop(it.ev.Kind)
				it.ev.Release()
			})
			continue
		}
		// The flag bit keeps end nonzero even for an empty ring.
		s.end.Store(end | ringClosed)
		s.signal()
	}
}
