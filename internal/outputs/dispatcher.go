package outputs

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/vigilsec/vigil/internal/alert"
)

// Dispatcher fans each alert out to every output's queue. Emit never
// blocks: an output whose queue is full drops the alert and counts it,
// and the others still get it.
type Dispatcher struct {
	queues []*Queue

	emitted atomic.Uint64 // alerts every output accepted
	partial atomic.Uint64 // alerts at least one output dropped
}

// NewDispatcher fans out to queues, which it owns from now on.
func NewDispatcher(queues ...*Queue) *Dispatcher {
	return &Dispatcher{queues: queues}
}

// Emit hands a to every output. It returns false when any output dropped
// it, which the detector counts; the per-output counters say which.
func (d *Dispatcher) Emit(a *alert.Alert) bool {
	ok := true
	for _, q := range d.queues {
		if !q.Enqueue(a) {
			ok = false
		}
	}
	if ok {
		d.emitted.Add(1)
	} else {
		d.partial.Add(1)
	}
	return ok
}

// Stats returns each output's counters, in the order they were given.
func (d *Dispatcher) Stats() []Stats {
	st := make([]Stats, len(d.queues))
	for i, q := range d.queues {
		st[i] = q.Stats()
	}
	return st
}

// EmitterStats summarises the outputs in the shape of the single emitter
// Vigil had before outputs, which vigil_alerts_total and --stats report:
// emitted is alerts every output queued, dropped is alerts some output
// could not queue, written and errors add up the outputs' sent and failed.
func (d *Dispatcher) EmitterStats() alert.DeliveryStats {
	s := alert.DeliveryStats{Emitted: d.emitted.Load(), Dropped: d.partial.Load()}
	for _, q := range d.queues {
		st := q.Stats()
		s.Written += st.Sent
		s.Errors += st.Failed
	}
	return s
}

// Close drains every output in parallel until ctx ends, then closes them,
// so one stuck output cannot hold the others' shutdown.
func (d *Dispatcher) Close(ctx context.Context) error {
	errs := make(chan error, len(d.queues))
	for _, q := range d.queues {
		go func() { errs <- q.Close(ctx) }()
	}
	var all []error
	for range d.queues {
		if err := <-errs; err != nil {
			all = append(all, err)
		}
	}
	return errors.Join(all...)
}
