package container

import "sync/atomic"

// Stats are the resolver's counters since New, plus the cache sizes.
type Stats struct {
	Containers int // entries in the container cache
	Cgroups    int // entries in the cgroup-id cache

	// CgroupMisses counts lookups of a cgroup id not cached yet;
	// HandleResolves how many were resolved at once by file handle.
	CgroupMisses   uint64
	HandleResolves uint64
	// Walks counts walks of the cgroup hierarchy (the fallback when file
	// handles are not available); WalksTruncated those that hit the bound.
	Walks          uint64
	WalksTruncated uint64
	// Unresolved counts lookups answered StateUnknown: the event could not
	// even be tied to a container id.
	Unresolved uint64
	// NotYetKnown counts lookups of a container whose metadata was not
	// there (StatePending or StateIDOnly): events that left the resolver
	// with an id but no name or image.
	NotYetKnown uint64

	// Fetches counts runtime API inspections; FetchErrors those that
	// failed (socket missing, timeout, bad answer), FetchNotFound those
	// the runtime did not know, NoSource containers of a runtime without
	// a configured client.
	Fetches       uint64
	FetchErrors   uint64
	FetchNotFound uint64
	NoSource      uint64
	// QueueDrops counts fetches not queued because the queue was full;
	// the container is retried on a later lookup.
	QueueDrops uint64
	// Evicted counts live containers dropped because the cache was full;
	// DeadEvicted those dropped after dying.
	Evicted     uint64
	DeadEvicted uint64
	// RuntimeEvents counts events read from runtime streams; WatchErrors
	// broken or refused streams (each is retried with backoff).
	RuntimeEvents uint64
	WatchErrors   uint64

	// Waits counts WaitFor calls that had to wait; WaitResolved those
	// that got a final answer in time, WaitTimeouts those that did not.
	Waits        uint64
	WaitResolved uint64
	WaitTimeouts uint64
	// ProcFallbacks counts lookups through /proc/<pid>/cgroup.
	ProcFallbacks uint64
}

type counters struct {
	cgroupMisses, handleResolves, walks, walksTruncated atomic.Uint64
	unresolved, notYetKnown                             atomic.Uint64
	fetches, fetchErrors, fetchNotFound, noSource       atomic.Uint64
	queueDrops, evicted, deadEvicted                    atomic.Uint64
	runtimeEvents, watchErrors                          atomic.Uint64
	waits, waitResolved, waitTimeouts, procFallbacks    atomic.Uint64
}

// Stats returns the current counters.
func (r *Resolver) Stats() Stats {
	r.mu.RLock()
	nc, ng := len(r.ctrs), len(r.cgroups)
	r.mu.RUnlock()
	c := &r.n
	return Stats{
		Containers: nc, Cgroups: ng,
		CgroupMisses: c.cgroupMisses.Load(), HandleResolves: c.handleResolves.Load(),
		Walks: c.walks.Load(), WalksTruncated: c.walksTruncated.Load(),
		Unresolved: c.unresolved.Load(), NotYetKnown: c.notYetKnown.Load(),
		Fetches: c.fetches.Load(), FetchErrors: c.fetchErrors.Load(),
		FetchNotFound: c.fetchNotFound.Load(), NoSource: c.noSource.Load(),
		QueueDrops: c.queueDrops.Load(), Evicted: c.evicted.Load(), DeadEvicted: c.deadEvicted.Load(),
		RuntimeEvents: c.runtimeEvents.Load(), WatchErrors: c.watchErrors.Load(),
		Waits: c.waits.Load(), WaitResolved: c.waitResolved.Load(), WaitTimeouts: c.waitTimeouts.Load(),
		ProcFallbacks: c.procFallbacks.Load(),
	}
}
