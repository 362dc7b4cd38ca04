package bpfobj

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"
)

// RingSize returns n rounded up to a size the kernel accepts for a
// BPF_MAP_TYPE_RINGBUF map: a power of two, and at least one page.
func RingSize(n int) int {
	size := os.Getpagesize() // itself a power of two
	for size < n {
		size <<= 1
	}
	return size
}

// Ring reads the records of one BPF ring buffer on one goroutine ([Ring.Run])
// until [Ring.Close] or its context stops it.
//
// A blocked read is interrupted with [ringbuf.Reader.Flush], never with a
// deadline, which would wait for the read's lock; and the reader is closed
// only after Run has returned and the flush ticker has stopped, since both
// still use it.
type Ring struct {
	reader *ringbuf.Reader
	poll   time.Duration

	running   atomic.Bool
	closing   atomic.Bool
	done      chan struct{} // closed by Close: stops the ticker
	runDone   chan struct{} // closed when Run returns
	ticker    sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// NewRing opens a reader on m, a BPF_MAP_TYPE_RINGBUF map.
//
// poll is for rings whose programs wake the reader only for large batches
// (BPF_RB_NO_WAKEUP below a threshold): while Run runs, the ring is flushed
// every poll, so a small batch waits at most that long. Zero means the
// programs wake the reader for every record and no ticker is needed.
func NewRing(m *ebpf.Map, poll time.Duration) (*Ring, error) {
	rd, err := ringbuf.NewReader(m)
	if err != nil {
		return nil, fmt.Errorf("open ring buffer: %w", err)
	}
	return &Ring{reader: rd, poll: poll, done: make(chan struct{}), runDone: make(chan struct{})}, nil
}

// Run hands each record to record, in the order the kernel committed them,
// until ctx is done or Close is called; then it returns nil. The slice is
// the reader's buffer: it is valid only until record returns.
//
// idle, if not nil, is called whenever the ring has been drained: after a
// record that left it empty, and after each flush that found it empty. A
// consumer that batches its own hand-offs hands them off then.
//
// Run must not be called twice, and record and idle must not call Close.
func (r *Ring) Run(ctx context.Context, record func([]byte), idle func()) error {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("Run called twice")
	}
	defer close(r.runDone)
	if r.closing.Load() {
		return nil // closed before it ran
	}
	if r.poll > 0 {
		r.ticker.Add(1)
		go r.flushEvery(r.poll)
	}
	// Flush makes a blocked ReadInto return ErrFlushed once the ring is
	// drained; it does not take the reader's lock.
	// It fails only on a closed reader, and Close waits for Run first.
	stop := context.AfterFunc(ctx, func() { _ = r.reader.Flush() })
	defer stop()
	var rec ringbuf.Record
	for !r.closing.Load() {
		err := r.reader.ReadInto(&rec)
		switch {
		case err == nil:
		case errors.Is(err, ringbuf.ErrFlushed), errors.Is(err, os.ErrDeadlineExceeded):
			if ctx.Err() != nil {
				return nil
			}
			if idle != nil {
				idle()
			}
			continue
		case errors.Is(err, ringbuf.ErrClosed):
			return nil
		default:
			return fmt.Errorf("read ring buffer: %w", err)
		}
		record(rec.RawSample)
		if idle != nil && r.reader.AvailableBytes() == 0 {
			idle()
		}
	}
	return nil
}

// flushEvery flushes the ring every d until Close.
func (r *Ring) flushEvery(d time.Duration) {
	defer r.ticker.Done()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-t.C:
			// Fails only on a closed reader, and Close stops this
			// ticker first.
			_ = r.reader.Flush()
		}
	}
}

// Close stops Run, waits for it to return, and closes the reader. Records
// still in the ring are dropped. It is safe to call more than once, and
// before or without Run, but not from inside Run's callbacks.
func (r *Ring) Close() error {
	r.closeOnce.Do(func() {
		r.closing.Store(true)
		close(r.done)
		closed := false
		if r.running.Load() {
			// Flush wakes ReadInto without taking its lock. It fails only
			// on a closed reader, which nothing but this does; should it
			// fail anyway, closing the reader wakes ReadInto as well.
			if err := r.reader.Flush(); err != nil {
				r.closeErr, closed = r.reader.Close(), true
			}
			<-r.runDone
		}
		r.ticker.Wait()
		if !closed {
			r.closeErr = r.reader.Close()
		}
	})
	return r.closeErr
}
