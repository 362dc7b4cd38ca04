package proc

import (
	"bytes"
	"encoding/binary"
	"net/netip"
)

// Parsers for the socket tables under /proc/<pid>/net, which the seed uses
// to turn the "socket:[INODE]" an fd links to into a tuple. Each takes one
// line and rejects anything that is not exactly what the kernel prints:
// the input comes from the kernel, but a parser that trusts its input is
// one bad kernel or fuzzer away from a panic.

// inetSock is one line of tcp, tcp6, udp, udp6, raw or raw6.
type inetSock struct {
	Local, Remote netip.AddrPort
	State         uint8
	Inode         uint64
}

// TCP states as the tables print them.
const (
	tcpEstablished = 0x01
	tcpListen      = 0x0a
)

// parseInetLine parses a line such as
//
//	0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0  0 1059 1 ...
//
// The header line and malformed lines give ok == false.
func parseInetLine(line []byte) (s inetSock, ok bool) {
	f, rest := nextField(line)
	if len(f) < 2 || f[len(f)-1] != ':' {
		return s, false
	}
	if _, ok := parseUint(f[:len(f)-1]); !ok {
		return s, false
	}
	var local, remote, st []byte
	local, rest = nextField(rest)
	remote, rest = nextField(rest)
	st, rest = nextField(rest)
	if s.Local, ok = parseHexAddrPort(local); !ok {
		return inetSock{}, false
	}
	if s.Remote, ok = parseHexAddrPort(remote); !ok || s.Remote.Addr().BitLen() != s.Local.Addr().BitLen() {
		return inetSock{}, false
	}
	state, ok := parseHex(st)
	if !ok || len(st) != 2 {
		return inetSock{}, false
	}
	s.State = uint8(state)
	// tx:rx queue, timer, retransmits, uid, timeout, then the inode.
	for range 5 {
		if f, rest = nextField(rest); len(f) == 0 {
			return inetSock{}, false
		}
	}
	f, _ = nextField(rest)
	if s.Inode, ok = parseUint(f); !ok {
		return inetSock{}, false
	}
	return s, true
}

// parseHexAddrPort parses ADDR:PORT as the tables print them: the address
// as 32-bit words in host byte order (8 hex digits for IPv4, 32 for IPv6)
// and the port as 4 hex digits.
func parseHexAddrPort(b []byte) (netip.AddrPort, bool) {
	colon := bytes.IndexByte(b, ':')
	if colon < 0 || len(b)-colon-1 != 4 {
		return netip.AddrPort{}, false
	}
	hexAddr, hexPort := b[:colon], b[colon+1:]
	port, ok := parseHex(hexPort)
	if !ok {
		return netip.AddrPort{}, false
	}
	var raw [16]byte
	switch len(hexAddr) {
	case 8, 32:
	default:
		return netip.AddrPort{}, false
	}
	for i := 0; i < len(hexAddr); i += 8 {
		w, ok := parseHex(hexAddr[i : i+8])
		if !ok {
			return netip.AddrPort{}, false
		}
		binary.NativeEndian.PutUint32(raw[i/2:], uint32(w))
	}
	var addr netip.Addr
	if len(hexAddr) == 8 {
		addr = netip.AddrFrom4([4]byte(raw[:4]))
	} else {
		addr = netip.AddrFrom16(raw)
	}
	return netip.AddrPortFrom(addr, uint16(port)), true
}

// unixSock is one line of /proc/net/unix.
type unixSock struct {
	Listening bool
	Type      uint8 // SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET
	State     uint8 // 1 unconnected, 3 connected
	Inode     uint64
	Path      []byte // a view into the line; abstract names start with @
}

// unixAcceptCon is __SO_ACCEPTCON in the Flags column: a listening socket.
const unixAcceptCon = 0x10000

// parseUnixLine parses a line such as
//
//	00000000f4d26549: 00000002 00000000 00010000 0001 01 1133270 /run/docker.sock
//
// The path is everything after the inode, spaces included.
func parseUnixLine(line []byte) (s unixSock, ok bool) {
	var f [7][]byte
	rest := line
	for i := range f {
		f[i], rest = nextField(rest)
		if len(f[i]) == 0 {
			return s, false
		}
	}
	if f[0][len(f[0])-1] != ':' {
		return s, false
	}
	if _, ok := parseHex(f[0][:len(f[0])-1]); !ok {
		return s, false
	}
	for _, x := range f[1:4] {
		if _, ok := parseHex(x); !ok {
			return s, false
		}
	}
	flags, _ := parseHex(f[3])
	typ, ok1 := parseHex(f[4])
	st, ok2 := parseHex(f[5])
	ino, ok3 := parseUint(f[6])
	if !ok1 || !ok2 || !ok3 || typ > 0xff || st > 0xff {
		return unixSock{}, false
	}
	s = unixSock{Listening: flags&unixAcceptCon != 0, Type: uint8(typ), State: uint8(st), Inode: ino}
	// One blank separates the inode from the path; the path itself may
	// start with anything but a newline.
	if len(rest) > 0 && rest[0] == ' ' {
		s.Path = bytes.TrimRight(rest[1:], "\n")
	}
	return s, true
}

// netlinkSock is one line of /proc/net/netlink.
type netlinkSock struct {
	Protocol uint8
	Inode    uint64
}

// parseNetlinkLine parses a line such as
//
//	0000000005d22849 0   12961      00000000 0        0        0     2        0        1135602
func parseNetlinkLine(line []byte) (s netlinkSock, ok bool) {
	var f [10][]byte
	rest := line
	for i := range f {
		f[i], rest = nextField(rest)
		if len(f[i]) == 0 {
			return s, false
		}
	}
	if _, ok := parseHex(f[0]); !ok {
		return s, false
	}
	proto, ok1 := parseUint(f[1])
	ino, ok2 := parseUint(f[9])
	if !ok1 || !ok2 || proto > 0xff {
		return netlinkSock{}, false
	}
	return netlinkSock{Protocol: uint8(proto), Inode: ino}, true
}
