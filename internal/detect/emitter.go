package detect

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// Format is how an Emitter writes alerts.
type Format uint8

// Formats.
const (
	FormatJSON Format = iota // one JSON object per line
	FormatText               // one line of text per alert, for people
)

// ParseFormat parses "json" or "text".
func ParseFormat(s string) (Format, error) {
	switch s {
	case "json":
		return FormatJSON, nil
	case "text":
		return FormatText, nil
	}
	return 0, fmt.Errorf("unknown alert format %q: want json or text", s)
}

// DefaultQueueLen is the Emitter queue's default capacity.
const DefaultQueueLen = 4096

// Emitter writes alerts from a bounded queue on its own goroutine, so that
// the event path never waits for output: Emit drops an alert that does not
// fit and counts it.
type Emitter struct {
	queue  chan *Alert
	format Format
	out    *bufio.Writer
	done   chan struct{}

	// mu makes Close and Emit exclusive, so an Emit racing a Close counts
	// a drop instead of sending on a closed channel. Alerts are rare next
	// to events, so the read lock costs nothing that matters.
	mu     sync.RWMutex
	closed bool

	emitted atomic.Uint64
	dropped atomic.Uint64
	written atomic.Uint64
	errs    atomic.Uint64
	err     error // the first write error; read after done is closed
}

// EmitterStats are an Emitter's counters.
type EmitterStats struct {
	Emitted uint64 `json:"emitted"` // accepted into the queue
	Dropped uint64 `json:"dropped"` // refused because the queue was full or closed
	Written uint64 `json:"written"` // written out
	Errors  uint64 `json:"errors"`  // failed writes
}

// NewEmitter starts an emitter writing to w. queueLen <= 0 means
// DefaultQueueLen.
func NewEmitter(w io.Writer, format Format, queueLen int) *Emitter {
	if queueLen <= 0 {
		queueLen = DefaultQueueLen
	}
	e := &Emitter{
		queue:  make(chan *Alert, queueLen),
		format: format,
		out:    bufio.NewWriterSize(w, 64<<10),
		done:   make(chan struct{}),
	}
	go e.run()
	return e
}

// Emit queues an alert without blocking. It returns false, and counts the
// alert as dropped, when the queue is full or the emitter is closed.
func (e *Emitter) Emit(a *Alert) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		e.dropped.Add(1)
		return false
	}
	select {
	case e.queue <- a:
		e.emitted.Add(1)
		return true
	default:
		e.dropped.Add(1)
		return false
	}
}

// Close writes what is queued, flushes, stops the writer and returns the
// first write error.
func (e *Emitter) Close() error {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		close(e.queue)
	}
	e.mu.Unlock()
	<-e.done
	return e.err
}

// Stats returns the counters.
func (e *Emitter) Stats() EmitterStats {
	return EmitterStats{Emitted: e.emitted.Load(), Dropped: e.dropped.Load(), Written: e.written.Load(), Errors: e.errs.Load()}
}

func (e *Emitter) run() {
	defer close(e.done)
	enc := json.NewEncoder(e.out)
	enc.SetEscapeHTML(false)
	var line []byte
	for a := range e.queue {
		var err error
		if e.format == FormatText {
			line = a.AppendText(line[:0])
			_, err = e.out.Write(line)
		} else {
			err = enc.Encode(a)
		}
		e.count(err)
		// Flush once the queue is empty: batches under load, no delay
		// when idle.
		if len(e.queue) == 0 {
			if err := e.out.Flush(); err != nil {
				e.count(err)
			}
		}
	}
	if err := e.out.Flush(); err != nil {
		e.count(err)
	}
}

func (e *Emitter) count(err error) {
	if err == nil {
		e.written.Add(1)
		return
	}
	if e.errs.Add(1) == 1 {
		e.err = err
	}
}
