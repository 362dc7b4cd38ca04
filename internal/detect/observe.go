package detect

import "github.com/vigilsec/vigil/internal/fields"

// Observer sees every event the detector handles, through the worker's
// own context once the rules are evaluated, so that another consumer of
// the event stream (the baseline observer) shares the context the rules
// built (the process snapshot, the container and workload lookups)
// instead of resetting one of its own. It runs on the event path, on
// the shard's goroutine, and must not block or keep c.
type Observer interface {
	HandleContext(c *fields.Context)
}

type observerBox struct{ o Observer }

// SetObserver installs o; nil removes it. It is safe to call while
// events flow.
func (d *Detector) SetObserver(o Observer) {
	if o == nil {
		d.observer.Store(nil)
		return
	}
	d.observer.Store(&observerBox{o})
}
