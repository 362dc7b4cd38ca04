package proc

import "net/netip"

// InetSocket is one row of a /proc/<pid>/net/{tcp,tcp6,udp,udp6} table,
// for readers outside this package (the flow map's listening-socket
// seed).
type InetSocket struct {
	Local, Remote netip.AddrPort
	// State is the kernel's socket state: TCPListen for a listening TCP
	// socket, UDPUnconnected for a UDP socket without a peer.
	State uint8
	Inode uint64
}

// Socket states as the tables print them.
const (
	TCPListen      = tcpListen
	UDPUnconnected = 0x07 // TCP_CLOSE, which an unconnected UDP socket stays in
)

// ParseInetLine parses one row of a socket table; the header line and
// malformed rows give ok == false.
func ParseInetLine(line []byte) (InetSocket, bool) {
	s, ok := parseInetLine(line)
	return InetSocket(s), ok
}
