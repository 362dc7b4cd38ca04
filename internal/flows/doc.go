// Package flows aggregates the connections Vigil sees into a map of who
// talks to whom: flows keyed by source, destination, destination port,
// protocol and the end that observed them, with first and last seen
// times and a count.
//
// The event path (Observer.Handle, Aggregator.Observe) records each
// connect, accept, and UDP sendto or recvfrom as an Observation against
// the workload (package workload) of the process that made the call and
// the raw address of the other end. A flow already known costs one map
// lookup in a shard under a read lock and two atomic updates; nothing is
// allocated. New flows take the slow path, which enforces the bounds:
// a global and a per-workload cap, and scan collapse (a source that
// reaches many ports of one address, or one port of many addresses,
// becomes one aggregated flow flagged as a scan). Flows expire when not
// seen for the configured TTL.
//
// Resolution is late: Snapshot turns each raw peer address into an
// Endpoint only when the map is asked for, from what is known then.
// Addresses on this node resolve to the workload that owns them (learned
// from the local ends of its own sockets, from the Node's listening
// sockets, or given by the caller for container addresses); addresses
// outside resolve to a name through Names (DNS answers the workload
// received, the Kubernetes Service of a cluster IP) or are grouped by
// network. Listening sockets are part of the map, so a port that is
// exposed but quiet still shows.
package flows
