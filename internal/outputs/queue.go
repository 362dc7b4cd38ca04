package outputs

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
)

// Defaults for QueueConfig.
const (
	DefaultQueueSize      = 4096
	DefaultMaxRetries     = 5
	DefaultInitialBackoff = 100 * time.Millisecond
	DefaultMaxBackoff     = 10 * time.Second
)

// QueueConfig bounds an output's queue and its retries.
type QueueConfig struct {
	// Size is how many alerts may wait; more are dropped and counted.
	// <= 0 means DefaultQueueSize.
	Size int
	// MaxRetries is how many times a failed send is retried before the
	// alert is counted as failed. < 0 means no retry; 0 means
	// DefaultMaxRetries.
	MaxRetries int
	// InitialBackoff is the wait before the first retry; each next wait
	// doubles, up to MaxBackoff. <= 0 means the defaults.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// Log receives a line when an alert counts as failed (at most one a
	// failLogEvery per output, with how many more failed meanwhile); nil
	// logs nothing.
	Log *slog.Logger
}

// failLogEvery bounds the failure logs of one output, so that a dead
// receiver does not flood the agent's log.
const failLogEvery = 10 * time.Second

// PermanentError is a failed send that retrying cannot fix, such as an
// HTTP 4xx other than 408 and 429: the queue counts the alert as failed
// at once instead of holding back the alerts behind it.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return &PermanentError{Err: err} }

func (c QueueConfig) withDefaults() QueueConfig {
	if c.Size <= 0 {
		c.Size = DefaultQueueSize
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	} else if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.InitialBackoff <= 0 {
		c.InitialBackoff = DefaultInitialBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.MaxBackoff < c.InitialBackoff {
		c.MaxBackoff = c.InitialBackoff
	}
	return c
}

// Stats are one output's counters.
type Stats struct {
	Output  string `json:"output"`
	Sent    uint64 `json:"sent"`    // delivered
	Failed  uint64 `json:"failed"`  // given up on after every retry, or left queued at shutdown
	Dropped uint64 `json:"dropped"` // refused because the queue was full or closed
	Retries uint64 `json:"retries"` // failed attempts that were retried
	Queued  int    `json:"queued"`  // waiting now
}

// Queue runs one Sink behind a bounded queue on its own goroutine.
type Queue struct {
	name  string
	sink  Sink
	cfg   QueueConfig
	queue chan *alert.Alert
	done  chan struct{}

	// ctx is cancelled by Close when the drain deadline passes, to cut
	// retries and sends in flight short.
	ctx    context.Context
	cancel context.CancelFunc

	// mu makes Close and Enqueue exclusive, so an Enqueue racing a Close
	// counts a drop instead of sending on a closed channel.
	mu     sync.RWMutex
	closed bool

	sent, failed, dropped, retries atomic.Uint64
	closeErr                       error

	// Failure logging, touched only by the writer goroutine.
	lastFailLog   time.Time
	failsUnlogged int
	// lastFlush is when a buffering sink last flushed.
	lastFlush time.Time
}

// NewQueue starts a queue delivering to sink under name (the metrics
// label).
func NewQueue(name string, sink Sink, cfg QueueConfig) *Queue {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue{
		name: name, sink: sink, cfg: cfg,
		queue: make(chan *alert.Alert, cfg.Size),
		done:  make(chan struct{}),
		ctx:   ctx, cancel: cancel,
	}
	go q.run()
	return q
}

// Name is the output's name.
func (q *Queue) Name() string { return q.name }

// Enqueue offers an alert without blocking. It returns false, and counts
// a drop, when the queue is full or closed.
func (q *Queue) Enqueue(a *alert.Alert) bool {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		q.dropped.Add(1)
		return false
	}
	select {
	case q.queue <- a:
		return true
	default:
		q.dropped.Add(1)
		return false
	}
}

// Stats returns the counters.
func (q *Queue) Stats() Stats {
	return Stats{Output: q.name, Sent: q.sent.Load(), Failed: q.failed.Load(),
		Dropped: q.dropped.Load(), Retries: q.retries.Load(), Queued: len(q.queue)}
}

// Close stops accepting alerts and delivers what is queued. When ctx ends
// first, sending is cut short and what is left counts as failed. It then
// closes the sink and returns its error.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.queue)
	}
	q.mu.Unlock()
	select {
	case <-q.done:
	case <-ctx.Done():
		q.cancel()
		<-q.done
	}
	q.cancel()
	return q.closeErr
}

func (q *Queue) run() {
	defer close(q.done)
	for a := range q.queue {
		if q.ctx.Err() != nil {
			q.failed.Add(1) // shutting down past the deadline
			continue
		}
		q.deliver(a)
		q.flush()
	}
	q.closeErr = q.sink.Close()
}

// deliver sends one alert, retrying with exponential backoff. It blocks
// this output only: meanwhile new alerts wait in the queue or are dropped.
func (q *Queue) deliver(a *alert.Alert) {
	wait := q.cfg.InitialBackoff
	for attempt := 0; ; attempt++ {
		err := q.sink.Send(q.ctx, a)
		if err == nil {
			q.sent.Add(1)
			return
		}
		var perm *PermanentError
		if attempt >= q.cfg.MaxRetries || q.ctx.Err() != nil || errors.As(err, &perm) {
			q.failed.Add(1)
			q.logFailure(a, attempt+1, err)
			return
		}
		q.retries.Add(1)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-q.ctx.Done():
			t.Stop()
			q.failed.Add(1)
			return
		}
		wait = min(wait*2, q.cfg.MaxBackoff)
	}
}

// logFailure logs an alert given up on, or counts it for the next line
// when the output logged one less than failLogEvery ago.
func (q *Queue) logFailure(a *alert.Alert, attempts int, err error) {
	if q.cfg.Log == nil {
		return
	}
	now := time.Now()
	if !q.lastFailLog.IsZero() && now.Sub(q.lastFailLog) < failLogEvery {
		q.failsUnlogged++
		return
	}
	q.cfg.Log.Error("output failed to deliver an alert", "output", q.name, "rule", a.Rule,
		"attempts", attempts, "error", err.Error(), "failed_since_last_log", q.failsUnlogged)
	q.lastFailLog, q.failsUnlogged = now, 0
}

// flush lets a buffering sink write what it collected once no alert waits,
// or when flushEvery has passed under a steady flow.
func (q *Queue) flush() {
	f, ok := q.sink.(Flusher)
	if !ok || len(q.queue) > 0 && time.Since(q.lastFlush) < flushEvery {
		return
	}
	q.lastFlush = time.Now()
	if err := f.Flush(); err != nil && q.cfg.Log != nil {
		q.cfg.Log.Error("output failed to write buffered alerts", "output", q.name, "error", err.Error())
	}
}
