// Package transport carries what a node's agent reports to the central
// service (`vigil server`) over NATS JetStream, and defines the wire schema
// both sides share.
//
// Every message is an [Envelope]: the schema version, the node, the kind,
// a message id that is unique per message and is also sent as the
// Nats-Msg-Id header, so that JetStream drops a republished duplicate
// within its window and the server's database, keyed by the same id,
// stores each message once whatever is redelivered. Data goes to
// <prefix>.agent.<kind>.<node> (stream VIGIL_AGENTS), heartbeats to
// <prefix>.heartbeat.<node> (stream VIGIL_HEARTBEATS), so that a backlog of
// data never delays the heartbeats by which the server tells that an
// agent went silent.
//
// The agent side is a [Publisher]: Publish never blocks (a bounded queue,
// drops counted); one goroutine sends in order, and what NATS does not
// acknowledge goes to an on-disk [Spool], bounded in bytes with the oldest
// dropped first and counted, drained in order when NATS is back. Alerts
// are the first kind; flows, inventories and baseline updates are further
// kinds with their own payloads, published the same way.
package transport
