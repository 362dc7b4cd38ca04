package container

import (
	"context"
	"log/slog"
	"time"
)

// resync lists a source's running containers. At start (initial) it
// inspects them inline, until ctx's deadline, so that Start returns with
// the cache filled; otherwise, and for what the deadline left, it queues
// the ones still pending.
func (r *Resolver) resync(ctx context.Context, s Source, initial bool) {
	lctx, cancel := context.WithTimeout(ctx, r.cfg.RequestTimeout)
	ids, err := s.List(lctx)
	cancel()
	if err != nil {
		r.n.fetchErrors.Add(1)
		r.log.Warn("cannot list containers; they will be identified by id until the runtime answers",
			"source", s.Name(), "err", err)
		return
	}
	for _, id := range ids {
		r.mu.Lock()
		c, _ := r.container(id, s.Runtime(), "")
		r.mu.Unlock()
		if initial && ctx.Err() == nil {
			r.fetch(ctx, c)
		}
		// Past the start deadline, or after a reconnect, the workers take
		// over whatever is not complete.
		if c.pub.Load().state == StatePending {
			r.enqueue(c)
		}
	}
}

// watchLoop follows a source's event stream, reconnecting with backoff.
func (r *Resolver) watchLoop(ctx context.Context, s Source) {
	const maxBackoff = 30 * time.Second
	backoff := time.Second
	warned := false // one warning per outage; the retries of a runtime that stays away log at debug level
	for {
		err := s.Watch(ctx, func(ev RuntimeEvent) {
			if ev.Action == ActionConnected {
				backoff, warned = time.Second, false
				r.resync(ctx, s, false) // whatever started while we were not listening
				return
			}
			r.onEvent(s, ev)
		})
		if ctx.Err() != nil {
			return
		}
		r.n.watchErrors.Add(1)
		level := slog.LevelWarn
		if warned {
			level = slog.LevelDebug
		}
		warned = true
		r.log.Log(ctx, level, "runtime event stream failed; retrying", "source", s.Name(), "in", backoff, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// onEvent keeps the cache in step with the runtime: a created or started
// container is inspected at once, usually before its first process execs;
// a dead one is dropped after DeadGrace.
func (r *Resolver) onEvent(s Source, ev RuntimeEvent) {
	r.n.runtimeEvents.Add(1)
	switch ev.Action {
	case ActionCreate, ActionStart, ActionUpdate:
		c := r.ensure(ev.ID, s.Runtime(), "")
		r.mu.Lock()
		c.deadAt = time.Time{}
		r.mu.Unlock()
		r.enqueue(c) // refresh: a start brings the pid and start time
	case ActionDie, ActionDestroy:
		r.mu.Lock()
		if c := r.ctrs[ev.ID]; c != nil && c.deadAt.IsZero() {
			c.deadAt = time.Now()
		}
		r.mu.Unlock()
	}
}

// janitor drops containers dead for longer than DeadGrace.
func (r *Resolver) janitor(ctx context.Context) {
	t := time.NewTicker(min(max(r.cfg.DeadGrace/3, 100*time.Millisecond), 10*time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			r.mu.Lock()
			for _, c := range r.ctrs {
				if !c.deadAt.IsZero() && now.Sub(c.deadAt) > r.cfg.DeadGrace {
					r.drop(c)
					r.n.deadEvicted.Add(1)
				}
			}
			r.mu.Unlock()
		}
	}
}

// requestWalk asks for a walk of the cgroup hierarchy without blocking.
func (r *Resolver) requestWalk() {
	select {
	case r.walkReq <- struct{}{}:
	default: // one is pending already
	}
}

// walkLoop resolves cgroup ids by walking the hierarchy when file handles
// are not available, at most once per minWalkInterval.
func (r *Resolver) walkLoop(ctx context.Context) {
	const minWalkInterval = 250 * time.Millisecond
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.walkReq:
		}
		if wait := minWalkInterval - time.Since(last); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		last = time.Now()
		r.walkOnce()
	}
}

// walkOnce maps every cgroup not resolved yet.
func (r *Resolver) walkOnce() {
	paths, truncated := r.fs.walk()
	r.n.walks.Add(1)
	if truncated {
		r.n.walksTruncated.Add(1)
	}
	for id, path := range paths {
		r.mu.RLock()
		e := r.cgroups[id]
		r.mu.RUnlock()
		if e == nil || !e.resolved {
			r.attach(id, path)
		}
	}
}
