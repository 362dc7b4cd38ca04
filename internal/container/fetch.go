package container

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// enqueue asks a worker to inspect a container. It never blocks: when the
// queue is full the drop is counted and the container becomes id-only, to
// be retried by a later lookup.
func (r *Resolver) enqueue(c *ctrEntry) {
	if !c.queued.CompareAndSwap(false, true) {
		return // already queued; that fetch will see the latest state
	}
	select {
	case r.queue <- c:
	default:
		c.queued.Store(false)
		r.n.queueDrops.Add(1)
		r.fail(c)
	}
}

func (r *Resolver) fetchLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-r.queue:
			c.queued.Store(false)
			r.fetch(ctx, c)
		}
	}
}

// fetch asks the container's runtime (or, when the cgroup path did not say
// which runtime, every source) for its metadata.
func (r *Resolver) fetch(ctx context.Context, c *ctrEntry) {
	srcs := r.sourcesFor(c)
	if len(srcs) == 0 {
		r.n.noSource.Add(1)
		r.fail(c)
		return
	}
	for _, s := range srcs {
		r.n.fetches.Add(1)
		cctx, cancel := context.WithTimeout(ctx, r.cfg.RequestTimeout)
		info, err := s.Inspect(cctx, c.id)
		cancel()
		switch {
		case err == nil && info != nil:
			r.complete(c, s, info)
			return
		case errors.Is(err, ErrNotFound):
			r.n.fetchNotFound.Add(1)
		case ctx.Err() != nil:
			return // shutting down
		default:
			r.n.fetchErrors.Add(1)
			r.log.Warn("container metadata unavailable; identifying it by id only",
				"source", s.Name(), "container", shortID(c.id), "err", err)
		}
	}
	r.fail(c)
}

// sourcesFor picks the sources that can describe a container.
func (r *Resolver) sourcesFor(c *ctrEntry) []Source {
	r.mu.RLock()
	rt := c.rt
	r.mu.RUnlock()
	if rt == RuntimeCRI || rt == RuntimeUnknown {
		return r.cfg.Sources
	}
	var out []Source
	for _, s := range r.cfg.Sources {
		if s.Runtime() == rt {
			out = append(out, s)
		}
	}
	return out
}

// fail marks a container's metadata as unavailable for now. A container
// that was complete stays complete: a failed refresh loses nothing.
func (r *Resolver) fail(c *ctrEntry) {
	c.retryAt.Store(time.Now().Add(r.cfg.RetryAfter).UnixNano())
	r.update(c, func(p *published) *published {
		if p.state != StatePending {
			return nil
		}
		return &published{info: p.info, state: StateIDOnly}
	})
}

// complete publishes a runtime's answer and maps the container's cgroup,
// found through its first process, so that its events hit the cache even
// where file handles cannot resolve new ids.
func (r *Resolver) complete(c *ctrEntry, s Source, info *Info) {
	info.ID, info.Runtime = c.id, s.Runtime()
	pod := sourcePod(info)
	uid := c.podUID
	if pod != nil && pod.UID != "" {
		uid = pod.UID
	}
	info.Pod = r.podFor(uid, pod)
	r.mu.Lock()
	c.rt = info.Runtime
	r.mu.Unlock()
	r.publish(c, info.seal(), StateComplete)
	if info.PID > 0 {
		r.linkPID(c, info.PID)
	}
}

// linkPID maps the cgroup of a container's process to the container.
func (r *Resolver) linkPID(c *ctrEntry, pid uint32) {
	b, err := os.ReadFile(filepath.Join(r.cfg.ProcRoot, strconv.FormatUint(uint64(pid), 10), "cgroup"))
	if err != nil {
		return // the process may be gone already
	}
	path, ok := ProcCgroupV2Path(string(b))
	if !ok {
		return
	}
	id, err := r.fs.idOf(path)
	if err != nil {
		return
	}
	r.mu.Lock()
	r.link(id, c)
	r.mu.Unlock()
	r.broadcast()
}

// shortID shortens an id for logs.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
