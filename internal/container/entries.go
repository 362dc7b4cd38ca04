package container

import (
	"sync/atomic"
	"time"
)

// cgEntry is what a cgroup id resolved to. A resolved entry with a nil ctr
// is a host cgroup; an unresolved one is a failure remembered until retryAt.
type cgEntry struct {
	ctr      *ctrEntry
	resolved bool
	retryAt  int64 // unix ns
}

// ctrEntry is one container. Its published identity is swapped atomically,
// so readers never take a lock; the other fields are guarded by
// Resolver.mu.
type ctrEntry struct {
	id      string
	rt      Runtime
	podUID  string // from the cgroup path, before any metadata
	pub     atomic.Pointer[published]
	retryAt atomic.Int64 // unix ns before which a failed fetch is not retried
	queued  atomic.Bool  // a fetch is in the queue

	cgroups []uint64
	deadAt  time.Time
}

// published pairs an Info with its state so that one atomic load gives a
// consistent view of both.
type published struct {
	info  *Info
	state State
}

// retryDue claims the next retry of a failed fetch if it is due, so that
// only one of many concurrent lookups queues it.
func (c *ctrEntry) retryDue(now int64, after time.Duration) bool {
	at := c.retryAt.Load()
	return now >= at && c.retryAt.CompareAndSwap(at, now+int64(after))
}

// attach records what a cgroup path says and returns the container it
// belongs to, nil for a host cgroup.
func (r *Resolver) attach(cgroupID uint64, path string) *ctrEntry {
	m, ok := ParseCgroupPath(path)
	if !ok {
		r.mu.Lock()
		r.putCgroup(cgroupID, &cgEntry{resolved: true})
		r.mu.Unlock()
		r.broadcast()
		return nil
	}
	r.mu.Lock()
	c, created := r.container(m.ID, m.Runtime, m.PodUID)
	r.link(cgroupID, c)
	r.mu.Unlock()
	if created {
		r.enqueue(c)
	}
	r.broadcast()
	return c
}

// ensure returns the entry of a container, creating it (and queueing its
// inspection) if it is new.
func (r *Resolver) ensure(id string, rt Runtime, podUID string) *ctrEntry {
	r.mu.Lock()
	c, created := r.container(id, rt, podUID)
	r.mu.Unlock()
	if created {
		r.enqueue(c)
	}
	return c
}

// container returns the entry for id, creating a pending one. r.mu is held.
func (r *Resolver) container(id string, rt Runtime, podUID string) (*ctrEntry, bool) {
	if c := r.ctrs[id]; c != nil {
		return c, false
	}
	if len(r.ctrs) >= r.cfg.MaxContainers {
		r.evictContainer()
	}
	c := &ctrEntry{id: id, rt: rt, podUID: podUID}
	c.pub.Store(&published{info: r.pendingInfo(id, rt, podUID), state: StatePending})
	r.ctrs[id] = c
	return c, true
}

// pendingInfo is what is known before the runtime answers: the id, the
// runtime and, if a pod source knows the pod from the path, the pod.
func (r *Resolver) pendingInfo(id string, rt Runtime, podUID string) *Info {
	return (&Info{ID: id, Runtime: rt, Pod: r.podFor(podUID, nil)}).seal()
}

// podFor merges the pod source's view of a pod with what the container's
// labels say. Either may be missing.
func (r *Resolver) podFor(uid string, fromLabels *Pod) *Pod {
	if r.cfg.Pods != nil && uid != "" {
		if api := r.cfg.Pods.Pod(uid); api != nil {
			return api.withContainer(fromLabels)
		}
	}
	return fromLabels
}

// link maps a cgroup id to a container. r.mu is held.
func (r *Resolver) link(cgroupID uint64, c *ctrEntry) {
	if e := r.cgroups[cgroupID]; e != nil && e.resolved && e.ctr == c {
		return
	}
	r.putCgroup(cgroupID, &cgEntry{ctr: c, resolved: true})
	c.cgroups = append(c.cgroups, cgroupID)
}

// putCgroup stores a cgroup entry, making room first if the cache is full.
// r.mu is held.
func (r *Resolver) putCgroup(id uint64, e *cgEntry) {
	if _, ok := r.cgroups[id]; !ok && len(r.cgroups) >= r.cfg.MaxCgroups {
		for victim := range r.cgroups { // map order is random: a random victim
			delete(r.cgroups, victim)
			r.n.evicted.Add(1)
			break
		}
	}
	r.cgroups[id] = e
}

// evictContainer drops one container to make room: a dead one if there is
// one, else a random one (it is fetched again if it shows up). r.mu is held.
func (r *Resolver) evictContainer() {
	var victim *ctrEntry
	for _, c := range r.ctrs {
		if victim == nil || !c.deadAt.IsZero() {
			victim = c
			if !c.deadAt.IsZero() {
				break
			}
		}
	}
	if victim != nil {
		r.n.evicted.Add(1)
		r.drop(victim)
	}
}

// drop removes a container and its cgroups. r.mu is held.
func (r *Resolver) drop(c *ctrEntry) {
	delete(r.ctrs, c.id)
	for _, id := range c.cgroups {
		if e := r.cgroups[id]; e != nil && e.ctr == c {
			delete(r.cgroups, id)
		}
	}
}

// publish makes a new identity visible to lookups and wakes waiters.
func (r *Resolver) publish(c *ctrEntry, info *Info, st State) {
	c.pub.Store(&published{info: info, state: st})
	r.broadcast()
}

// update replaces a container's identity with what next derives from the
// current one; next returns nil to leave it. Workers, the pod source and
// enqueue's overflow path may race on one container: the compare-and-swap
// keeps a derivation from overwriting metadata published meanwhile.
func (r *Resolver) update(c *ctrEntry, next func(*published) *published) {
	for {
		p := c.pub.Load()
		n := next(p)
		if n == nil {
			return
		}
		if c.pub.CompareAndSwap(p, n) {
			r.broadcast()
			return
		}
	}
}

// broadcast wakes every WaitFor.
func (r *Resolver) broadcast() {
	r.chMu.Lock()
	close(r.changed)
	r.changed = make(chan struct{})
	r.chMu.Unlock()
}

// changes returns the channel the next broadcast closes.
func (r *Resolver) changes() <-chan struct{} {
	r.chMu.Lock()
	defer r.chMu.Unlock()
	return r.changed
}

// podChanged rebuilds the identity of every container in a pod whose API
// metadata arrived or changed.
func (r *Resolver) podChanged(uid string) {
	r.mu.RLock()
	var hit []*ctrEntry
	for _, c := range r.ctrs {
		p := c.pub.Load()
		if c.podUID == uid || (p.info.Pod != nil && p.info.Pod.UID == uid) {
			hit = append(hit, c)
		}
	}
	r.mu.RUnlock()
	for _, c := range hit {
		r.update(c, func(p *published) *published {
			n := *p.info
			n.Pod = r.podFor(uid, PodFromLabels(n.Labels))
			return &published{info: n.seal(), state: p.state}
		})
	}
}
