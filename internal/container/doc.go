// Package container attaches workload identity (container and Kubernetes
// pod) to kernel events by their cgroup id.
//
// Identity is resolved in two layers. The first comes from the kernel alone:
// the event's cgroup v2 id names a directory of the unified hierarchy, and
// the runtimes encode the container id and their own name in that path
// (/docker/<id>, libpod-<id>.scope, cri-containerd-<id>.scope, ...). That
// layer is available for the very first event of a container, costs one
// open_by_handle_at per new cgroup, and never waits on anything. The second
// layer is the runtime's metadata (name, image, labels, privileges, mounts,
// pod), fetched asynchronously through the runtime's API by a bounded
// worker and cached; the resolver lists running containers at start and
// follows the runtime's event stream so that a new container is usually
// known before its first process execs.
//
// The event path calls Resolver.Lookup, which never blocks and returns an
// immutable *Info and a State saying how much is known. An output stage that
// prefers complete metadata over latency calls Resolver.WaitFor, which holds
// for at most a caller-chosen bound. See docs/containers.md.
package container
