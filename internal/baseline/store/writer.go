package store

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// maxBatch bounds one transaction; a fuller queue is written in several.
const maxBatch = 8192

// ErrClosed is returned by a Writer after Close.
var ErrClosed = errors.New("baseline store writer is closed")

// Writer batches changes from the event path into one transaction per
// interval. Enqueue never blocks; Put waits for room and is for the rare
// changes that must not be dropped (modes, resets, imports).
type Writer struct {
	s        *Store
	ch       chan Change
	interval time.Duration
	log      *slog.Logger

	syncReq chan chan error
	closeMu sync.RWMutex // held for reading by senders, for writing by Close
	closed  bool
	done    chan struct{}

	dropped, written, failed, commits atomic.Uint64
}

// WriterStats are a writer's counters.
type WriterStats struct {
	Dropped uint64 // changes refused because the queue was full
	Written uint64 // changes committed
	Failed  uint64 // changes lost to a failed transaction
	Commits uint64 // transactions committed
}

// NewWriter starts a writer that commits at most every interval (at most
// 1s is what the crash guarantee assumes) with a queue of queueLen
// changes. log may be nil.
func (s *Store) NewWriter(queueLen int, interval time.Duration, log *slog.Logger) *Writer {
	if log == nil {
		log = slog.Default()
	}
	w := &Writer{s: s, ch: make(chan Change, max(queueLen, 1)), interval: interval, log: log,
		syncReq: make(chan chan error), done: make(chan struct{})}
	go w.loop()
	return w
}

// Enqueue queues c and reports whether there was room.
func (w *Writer) Enqueue(c Change) bool {
	w.closeMu.RLock()
	defer w.closeMu.RUnlock()
	if w.closed {
		w.dropped.Add(1)
		return false
	}
	select {
	case w.ch <- c:
		return true
	default:
		w.dropped.Add(1)
		return false
	}
}

// Put queues c, waiting for room until ctx ends.
func (w *Writer) Put(ctx context.Context, c Change) error {
	w.closeMu.RLock()
	defer w.closeMu.RUnlock()
	if w.closed {
		return ErrClosed
	}
	select {
	case w.ch <- c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Sync commits everything queued so far and returns the commit's error.
func (w *Writer) Sync(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case w.syncReq <- reply:
	case <-w.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close commits what is queued and stops the writer. The store stays
// open.
func (w *Writer) Close() {
	w.closeMu.Lock()
	if !w.closed {
		w.closed = true
		close(w.ch)
	}
	w.closeMu.Unlock()
	<-w.done
}

// Stats returns the counters.
func (w *Writer) Stats() WriterStats {
	return WriterStats{Dropped: w.dropped.Load(), Written: w.written.Load(), Failed: w.failed.Load(), Commits: w.commits.Load()}
}

func (w *Writer) loop() {
	defer close(w.done)
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	var batch []Change
	for {
		select {
		case c, ok := <-w.ch:
			if !ok {
				_ = w.commit(batch) // counted and logged by commit
				return
			}
			batch = append(batch, c)
			if len(batch) >= maxBatch {
				_ = w.commit(batch) // counted and logged by commit
				batch = batch[:0]
			}
		case <-tick.C:
			_ = w.commit(batch) // counted and logged by commit
			batch = batch[:0]
		case reply := <-w.syncReq:
			batch = w.drain(batch)
			reply <- w.commit(batch)
			batch = batch[:0]
		}
	}
}

// drain moves what is queued now into batch, committing full batches.
func (w *Writer) drain(batch []Change) []Change {
	for {
		select {
		case c, ok := <-w.ch:
			if !ok {
				return batch
			}
			batch = append(batch, c)
			if len(batch) >= maxBatch {
				_ = w.commit(batch) // counted and logged by commit
				batch = batch[:0]
			}
		default:
			return batch
		}
	}
}

// commit writes a batch. A failed batch is counted and logged, not
// retried: what it held is learned again, and modes are rewritten by the
// next change of the workload.
func (w *Writer) commit(batch []Change) error {
	if len(batch) == 0 {
		return nil
	}
	if err := w.s.Apply(batch); err != nil {
		w.failed.Add(uint64(len(batch)))
		w.log.Error("baseline store: write failed", "changes", len(batch), "err", err)
		return err
	}
	w.written.Add(uint64(len(batch)))
	w.commits.Add(1)
	return nil
}
