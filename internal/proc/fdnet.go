package proc

import (
	"bufio"
	"net/netip"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// maxNetSockets bounds the sockets remembered per network namespace while
// seeding; a namespace with more leaves the rest unresolved (their fds
// are seeded as unknown sockets).
const maxNetSockets = 1 << 20

// netTables maps socket inodes to what the socket tables of one network
// namespace say about them.
type netTables struct {
	byIno map[uint64]FD
}

// netsOf returns the socket tables of the network namespace of the process
// at dir, reading them on first use of that namespace.
func (s *seeder) netsOf(dir string) *netTables {
	ns, err := os.Readlink(dir + "/ns/net")
	if err != nil {
		ns = dir // unknown namespace: read the process's own view
	}
	if s.nets == nil {
		s.nets = map[string]*netTables{}
	}
	if n, ok := s.nets[ns]; ok {
		return n
	}
	n := &netTables{byIno: map[uint64]FD{}}
	s.nets[ns] = n
	listening := map[uint16]bool{}
	var tcp []inetSock
	for _, t := range [...]struct {
		file  string
		typ   FDType
		proto uint8
	}{
		{"tcp", FDIPv4, ipprotoTCP}, {"tcp6", FDIPv6, ipprotoTCP},
		{"udp", FDIPv4, ipprotoUDP}, {"udp6", FDIPv6, ipprotoUDP},
		{"raw", FDIPv4, 0}, {"raw6", FDIPv6, 0},
	} {
		s.eachLine(dir+"/net/"+t.file, func(line []byte) {
			sk, ok := parseInetLine(line)
			if !ok || len(n.byIno) >= maxNetSockets {
				return
			}
			if t.proto == ipprotoTCP {
				if sk.State == tcpListen {
					listening[sk.Local.Port()] = true
				}
				tcp = append(tcp, sk)
			}
			n.byIno[sk.Inode] = inetFD(sk, t.typ, t.proto)
		})
	}
	// A connection is the server end when its local port is one the
	// namespace listens on, which is how Falco guesses the role too.
	for _, sk := range tcp {
		if e, ok := n.byIno[sk.Inode]; ok && sk.State != tcpListen && listening[sk.Local.Port()] {
			e.Role = RoleServer
			n.byIno[sk.Inode] = e
		}
	}
	s.eachLine(dir+"/net/unix", func(line []byte) {
		if sk, ok := parseUnixLine(line); ok && len(n.byIno) < maxNetSockets {
			n.byIno[sk.Inode] = unixFD(sk)
		}
	})
	s.eachLine(dir+"/net/netlink", func(line []byte) {
		if sk, ok := parseNetlinkLine(line); ok && len(n.byIno) < maxNetSockets {
			n.byIno[sk.Inode] = FD{Type: FDNetlink, Family: unix.AF_NETLINK, Proto: sk.Protocol}
		}
	})
	return n
}

// inetFD describes an IP socket from its table line.
func inetFD(sk inetSock, typ FDType, proto uint8) FD {
	e := FD{Type: typ, Family: unix.AF_INET, Proto: proto, Ino: sk.Inode}
	if typ == FDIPv6 {
		e.Family = unix.AF_INET6
	}
	switch proto {
	case ipprotoTCP:
		e.SockType = sockStream
	case ipprotoUDP:
		e.SockType = sockDgram
	default:
		// In the raw tables the port column holds the protocol.
		e.SockType, e.Proto = sockRaw, uint8(sk.Local.Port())
		sk.Local = netip.AddrPortFrom(sk.Local.Addr(), 0)
		sk.Remote = netip.AddrPortFrom(sk.Remote.Addr(), 0)
	}
	e.Local = unmapped(sk.Local)
	if sk.Remote.Port() != 0 || !sk.Remote.Addr().IsUnspecified() {
		e.Remote = unmapped(sk.Remote)
	}
	switch {
	case proto == ipprotoTCP && sk.State == tcpListen:
		e.Role, e.Flags = RoleServer, FDListening
	case proto == ipprotoTCP && sk.State == tcpEstablished:
		e.Role, e.Flags = RoleClient, FDConnected
	case e.Remote.IsValid():
		e.Role, e.Flags = RoleClient, FDConnected
	case e.Local.Port() != 0:
		e.Role = RoleServer // bound, unconnected
	}
	return e
}

// unmapped turns ::ffff:a.b.c.d into a.b.c.d, as events report IPv4 peers
// of IPv6 sockets.
func unmapped(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// unixFD describes a unix socket from its table line.
func unixFD(sk unixSock) FD {
	e := FD{Type: FDUnix, Family: unix.AF_UNIX, SockType: sk.Type, Ino: sk.Inode, Name: string(sk.Path)}
	switch {
	case sk.Listening:
		e.Role, e.Flags = RoleServer, FDListening
	case sk.State == 3: // SS_CONNECTED
		e.Flags = FDConnected
	}
	return e
}

// lookup returns the FD for a socket inode; sockets the tables do not
// list (packet sockets, a namespace that changed since) are unknown.
func (n *netTables) lookup(ino uint64, link string) *FD {
	if e, ok := n.byIno[ino]; ok {
		return &e
	}
	return &FD{Type: FDUnknown, Name: link, Ino: ino}
}

// eachLine calls fn with each line of a /proc table after the header.
func (s *seeder) eachLine(path string, fn func([]byte)) {
	f, err := os.Open(path)
	if err != nil {
		if !vanished(err) && !strings.HasSuffix(path, "6") {
			s.errs++ // tcp6 and friends are absent without IPv6
		}
		return
	}
	defer f.Close() //nolint:errcheck // read-only: closing loses nothing
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 512), maxSeedLink+256)
	header := true
	for sc.Scan() {
		if header {
			header = false
			continue
		}
		fn(sc.Bytes())
	}
}
