package container

import (
	"context"
	"time"
)

// WaitFor is Lookup for a stage that may hold an event, such as an output
// that prefers a complete alert to an immediate one: it waits until the
// container's identity is final (complete, host, or known to be
// unavailable), maxWait passes, or ctx ends, and returns what is known
// then. It must not be called from the event path. Waits and their
// outcomes are counted in Stats.
func (r *Resolver) WaitFor(ctx context.Context, cgroupID uint64, maxWait time.Duration) (*Info, State) {
	info, st := r.lookup(cgroupID, false)
	if st.Final() {
		return info, st
	}
	r.n.waits.Add(1)
	timer := time.NewTimer(maxWait)
	defer timer.Stop()
	for {
		ch := r.changes()
		// Look again after taking the channel: a publication in between
		// would otherwise be missed.
		if info, st = r.lookup(cgroupID, false); st.Final() {
			r.n.waitResolved.Add(1)
			return info, st
		}
		select {
		case <-ch:
		case <-timer.C:
			r.n.waitTimeouts.Add(1)
			return r.lookup(cgroupID, false)
		case <-ctx.Done():
			r.n.waitTimeouts.Add(1)
			return r.lookup(cgroupID, false)
		}
	}
}
