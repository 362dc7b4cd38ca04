// Package workload names the workload a process belongs to: the unit a
// learned baseline is kept for. A baseline belongs to a workload, not to
// one container instance, so that every replica of a Deployment and every
// restart of a container share what was learned.
//
// The identity is a stable string (see [Workload.ID] for the grammar) built
// from what the container resolver knows (Kubernetes owner, image,
// container name) or, for host processes, from the systemd unit or the
// executable of the session leader. A [Resolver] caches it by cgroup id so
// that the event path pays one map lookup and no allocation; entries follow
// the container resolver's published identity, so they are recomputed as
// soon as it learns more (the pod's API metadata arriving, for example).
//
// See docs/baselines.md.
package workload
