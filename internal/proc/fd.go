package proc

import "net/netip"

// FDType is what kind of object a file descriptor refers to, in Falco's
// terms (fd.type and fd.typechar).
type FDType uint8

// File descriptor types. FDUnknown is an fd whose kind the table could not
// tell (a socket of an unsupported family, an anonymous inode Falco has no
// name for); fd.type has no value for it, as in Falco.
const (
	FDUnknown FDType = iota
	FDFile
	FDDirectory
	FDIPv4
	FDIPv6
	FDUnix
	FDPipe
	FDEvent // eventfd
	FDSignalfd
	FDEventpoll
	FDInotify
	FDTimerfd
	FDNetlink
	FDBPF
	FDUserfaultfd
	FDIOUring
	FDMemfd
	FDPidfd
	numFDTypes
)

var fdTypeNames = [numFDTypes]string{
	FDFile: "file", FDDirectory: "directory", FDIPv4: "ipv4", FDIPv6: "ipv6", FDUnix: "unix",
	FDPipe: "pipe", FDEvent: "event", FDSignalfd: "signalfd", FDEventpoll: "eventpoll",
	FDInotify: "inotify", FDTimerfd: "timerfd", FDNetlink: "netlink", FDBPF: "bpf",
	FDUserfaultfd: "userfaultfd", FDIOUring: "io_uring", FDMemfd: "memfd", FDPidfd: "pidfd",
}

// Falco's one-letter codes; userfaultfd shares 'u' with unix sockets there.
var fdTypeChars = [numFDTypes]string{
	FDUnknown: "o", FDFile: "f", FDDirectory: "d", FDIPv4: "4", FDIPv6: "6", FDUnix: "u",
	FDPipe: "p", FDEvent: "e", FDSignalfd: "s", FDEventpoll: "l", FDInotify: "i",
	FDTimerfd: "t", FDNetlink: "n", FDBPF: "b", FDUserfaultfd: "u", FDIOUring: "r",
	FDMemfd: "m", FDPidfd: "P",
}

// String returns Falco's name for the type (file, ipv4, pipe, ...), or ""
// for FDUnknown.
func (t FDType) String() string {
	if t < numFDTypes {
		return fdTypeNames[t]
	}
	return ""
}

// Char returns Falco's one-letter code for the type: f, d, 4, 6, u, p, ...
func (t FDType) Char() string {
	if t < numFDTypes {
		return fdTypeChars[t]
	}
	return "o"
}

// IsSocket reports whether the type is a socket of a known family.
func (t FDType) IsSocket() bool {
	return t == FDIPv4 || t == FDIPv6 || t == FDUnix || t == FDNetlink
}

// FDRole says which end of a connection a socket is, as Falco assigns
// client and server: connect makes a client, accept, bind and listen a
// server.
type FDRole uint8

// Socket roles.
const (
	RoleNone FDRole = iota
	RoleClient
	RoleServer
)

// FDFlags are facts about an fd's socket state.
type FDFlags uint8

// FD flags.
const (
	FDConnected FDFlags = 1 << iota // connect or accept succeeded (or /proc showed a peer)
	FDListening                     // listen succeeded
	FDFromProc                      // the entry was read from /proc when the table was seeded
)

// FD describes the open file description behind a file descriptor. An FD
// is immutable once the table has published it: an update (a connect that
// fills in the tuple) publishes a new FD, so a reader may keep the one it
// got. Several fds can share an FD (dup).
type FD struct {
	Type  FDType
	Role  FDRole
	Flags FDFlags
	// Proto is the IPPROTO_* number and SockType the SOCK_* type of a
	// socket; Family its AF_* family.
	Proto    uint8
	SockType uint8
	Family   uint16
	// Name is the absolute path of a file or directory, a unix socket's
	// path (abstract names start with @), "pipe:[INODE]", "memfd:NAME", or
	// the anon_inode name /proc shows (anon_inode:[eventfd]). IP sockets
	// have no Name: their name is rendered from the tuple.
	Name string
	// Local and Remote are an IP socket's ends, as far as they are known.
	Local, Remote netip.AddrPort
	// Ino is the inode number when /proc told it (pipes and sockets).
	Ino uint64
}

// IsIP reports whether the fd is an IPv4 or IPv6 socket.
func (d *FD) IsIP() bool { return d.Type == FDIPv4 || d.Type == FDIPv6 }

// Ends returns the client and server ends of an IP socket according to
// its role; ok is false for an end that is not known. A listening or
// bound socket has a server end only.
func (d *FD) Ends() (client, server netip.AddrPort, cok, sok bool) {
	switch d.Role {
	case RoleClient:
		return d.Local, d.Remote, d.Local.IsValid(), d.Remote.IsValid()
	case RoleServer:
		return d.Remote, d.Local, d.Remote.IsValid(), d.Local.IsValid()
	}
	// No role: a socket that only has a peer is treated as a client.
	if d.Remote.IsValid() {
		return d.Local, d.Remote, d.Local.IsValid(), true
	}
	return netip.AddrPort{}, d.Local, false, d.Local.IsValid()
}

// L4Proto names the transport protocol of an IP socket (tcp, udp, icmp,
// raw), or "" when it is not known.
func (d *FD) L4Proto() string { return L4Name(d.Proto, d.SockType) }

// Protocol numbers and socket types as the kernel numbers them.
const (
	ipprotoICMP   = 1
	ipprotoTCP    = 6
	ipprotoUDP    = 17
	ipprotoICMPv6 = 58
	sockStream    = 1
	sockDgram     = 2
	sockRaw       = 3
)

// L4Name names a transport protocol from an IPPROTO_* number, falling back
// on the socket type when the protocol is 0 (the family's default).
func L4Name(proto, sockType uint8) string {
	switch proto {
	case ipprotoTCP:
		return "tcp"
	case ipprotoUDP:
		return "udp"
	case ipprotoICMP, ipprotoICMPv6:
		return "icmp"
	}
	switch sockType {
	case sockRaw:
		return "raw"
	case sockStream:
		if proto == 0 {
			return "tcp"
		}
	case sockDgram:
		if proto == 0 {
			return "udp"
		}
	}
	return ""
}
