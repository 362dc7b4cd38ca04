package fanguard

import "fmt"

// FailureReason says why a decision failed.
type FailureReason uint8

const (
	// Timeout means the Decider did not answer within Config.Timeout.
	Timeout FailureReason = iota + 1
	// DeciderPanic means the Decider panicked (recovered).
	DeciderPanic
	// QueueFull means the worker queue was full.
	QueueFull
	// WriteError means the response could not be written to the kernel.
	WriteError
	// StatError means fstat of the event's fd failed, so the file is unknown.
	StatError
	// KernelOverflow means the kernel's event queue overflowed and it allowed
	// the operations it could not queue.
	KernelOverflow
	// ReadError means reading events failed; with EMFILE/ENFILE the kernel
	// denied the event it could not open a fd for.
	ReadError
)

// String names the reason for alerts and metrics.
func (r FailureReason) String() string {
	switch r {
	case Timeout:
		return "timeout"
	case DeciderPanic:
		return "decider_panic"
	case QueueFull:
		return "queue_full"
	case WriteError:
		return "write_error"
	case StatError:
		return "stat_error"
	case KernelOverflow:
		return "kernel_overflow"
	case ReadError:
		return "read_error"
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Failure reports one failed decision to Config.OnFailure. For
// KernelOverflow and ReadError no single event is known and Request is nil.
type Failure struct {
	Reason  FailureReason
	Request *Request
	// Allowed is what the event was answered with.
	Allowed bool
	// Err carries the underlying error or recovered panic, if any.
	Err error
}

// failureQueueLen bounds the OnFailure reports waiting for the callback.
const failureQueueLen = 256

func (g *Guard) reportFailure(f Failure) {
	if g.failures == nil {
		return
	}
	select {
	case g.failures <- f:
	default:
		g.stats.failureDrops.Add(1)
	}
}

// runFailureCallback feeds OnFailure from its own goroutine so a slow
// callback never holds up the listener.
func (g *Guard) runFailureCallback() {
	for {
		select {
		case f := <-g.failures:
			g.cfg.OnFailure(f)
		case <-g.done:
			// Deliver what the shutdown itself reported, then stop.
			for {
				select {
				case f := <-g.failures:
					g.cfg.OnFailure(f)
				default:
					return
				}
			}
		}
	}
}
