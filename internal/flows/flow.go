package flows

import (
	"net/netip"
	"time"

	"github.com/vigilsec/vigil/internal/workload"
)

// Proto is a transport protocol.
type Proto uint8

// Protocols.
const (
	TCP Proto = iota + 1
	UDP
)

// String returns "tcp" or "udp".
func (p Proto) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return "unknown"
}

// ParseProto reads "tcp" or "udp".
func ParseProto(s string) (Proto, bool) {
	switch s {
	case "tcp":
		return TCP, true
	case "udp":
		return UDP, true
	}
	return 0, false
}

// Direction says which end of a flow observed it. A flow always goes
// from the end that initiated it (the client) to the end that answered
// (the server); the direction says whose call Vigil saw.
type Direction uint8

// Directions.
const (
	// Outbound: the source's connect or sendto.
	Outbound Direction = iota + 1
	// Inbound: the destination's accept or recvfrom.
	Inbound
)

// String returns "outbound" or "inbound".
func (d Direction) String() string {
	switch d {
	case Outbound:
		return "outbound"
	case Inbound:
		return "inbound"
	}
	return "unknown"
}

// Observation is one connection or datagram seen on this node, from the
// point of view of the process that made the call.
type Observation struct {
	// Workload is the workload of the process that made the call.
	Workload *workload.Workload
	// Dir is Outbound for connect and sendto, Inbound for accept and
	// recvfrom.
	Dir   Direction
	Proto Proto
	// Local is the calling process's end, Peer the other end. The
	// destination port is Peer's for Outbound and Local's for Inbound.
	Local, Peer netip.AddrPort
	// Failed marks a connect that did not succeed (refused, unreachable):
	// still a flow, since a scan is mostly failures.
	Failed bool
	// Time is the wall time in Unix nanoseconds; 0 is now.
	Time int64
}

// EndpointKind says what an Endpoint is.
type EndpointKind uint8

// Endpoint kinds.
const (
	// KindWorkload is a workload on this node.
	KindWorkload EndpointKind = iota + 1
	// KindExternal is an address not on this node: named, or a network.
	KindExternal
	// KindUnknown is a local address no workload could be found for (a
	// loopback client of a server nobody was seen connecting to).
	KindUnknown
)

// String returns "workload", "external" or "unknown".
func (k EndpointKind) String() string {
	switch k {
	case KindWorkload:
		return "workload"
	case KindExternal:
		return "external"
	}
	return "unknown"
}

// Endpoint is one end of a resolved flow.
type Endpoint struct {
	Kind EndpointKind
	// ID identifies the endpoint in the map: the workload id, or for
	// other endpoints "dns:<name>", "svc:<namespace>/<name>",
	// "net:<cidr>", "net:<network name>", "net:any" or "local:loopback".
	ID string
	// Workload is set for KindWorkload.
	Workload *workload.Workload
	// Name is a DNS name or a Service's "<namespace>/<name>" for a named
	// external endpoint, or the configured network's name.
	Name string
	// NameKind is "dns", "service" or "network" when Name is set.
	NameKind string
	// Network is the network an external endpoint was grouped into (for
	// a named endpoint, the network of its first address).
	Network netip.Prefix
	// Scope is "private", "public" or "loopback" for external and unknown
	// endpoints.
	Scope string
}

// Scan describes a flow that stands for a scan: how many distinct ports
// (of one address) or addresses (on one port) it collapsed.
type Scan struct {
	Ports int `json:"ports"`
	Addrs int `json:"addrs"`
	// Capped says more distinct values were seen than were counted.
	Capped bool `json:"capped"`
}

// Flow is one edge of the map: from Src to Dst on Port over Proto, as
// observed by Dir's end.
type Flow struct {
	Src, Dst Endpoint
	// Port is the destination port; 0 for a port scan.
	Port  uint16
	Proto Proto
	Dir   Direction
	First time.Time
	Last  time.Time
	// Count is how many calls were seen; Failed how many of them were
	// connects that failed.
	Count  uint64
	Failed uint64
	// Peers are the raw addresses of the observed end's peer: the
	// destination addresses of an outbound flow, the source addresses of
	// an inbound one. At most MaxPeers are kept; MorePeers counts the
	// rest.
	Peers     []netip.Addr
	MorePeers int
	// Scan is set when the flow collapses a scan.
	Scan *Scan
}

// MaxPeers bounds Flow.Peers.
const MaxPeers = 32

// Listener is a listening socket on this node: a TCP socket in listen,
// or a bound UDP socket.
type Listener struct {
	Workload *workload.Workload
	Addr     netip.AddrPort
	Proto    Proto
	PID      uint32
	// Process is the name of the process that opened it.
	Process string
	Since   time.Time
	// FromProc says it was read from /proc rather than seen listening.
	FromProc bool
}
