package container

// Lookuper is the part of a Resolver the event path needs, for consumers
// (the field registry) that should not depend on how identity is found.
// *Resolver implements it.
type Lookuper interface {
	// Lookup returns the identity of the container owning the cgroup; see
	// Resolver.Lookup. It never blocks and never returns a nil Info.
	Lookup(cgroupID uint64) (*Info, State)
}

var _ Lookuper = (*Resolver)(nil)
