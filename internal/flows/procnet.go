package flows

import (
	"bytes"
	"cmp"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/internal/proc"
)

// Socket is a listening socket found in /proc: a TCP socket in listen,
// or a UDP socket bound to a port outside the ephemeral range without a
// peer (a client's unconnected socket sits on an ephemeral port).
type Socket struct {
	PID   uint32
	Addr  netip.AddrPort
	Proto Proto
	Inode uint64
	// NetNS is the inode of the socket's network namespace.
	NetNS uint64
}

// ReadListening reads the listening sockets of every network namespace
// under root (a proc mount, "/proc"), each with the lowest pid holding
// it. A namespace's tables are read through the first of its processes;
// processes that vanish while it reads are skipped. Only a root that
// cannot be listed is an error.
func ReadListening(root string) ([]Socket, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var pids []uint32
	for _, e := range ents {
		if n, err := strconv.ParseUint(e.Name(), 10, 32); err == nil {
			pids = append(pids, uint32(n))
		}
	}
	slices.Sort(pids)
	lo, hi := ephemeralRange(root)
	byNS := map[uint64][]uint32{}
	var order []uint64
	for _, pid := range pids {
		ns, ok := netNS(root, pid)
		if !ok {
			continue
		}
		if _, seen := byNS[ns]; !seen {
			order = append(order, ns)
		}
		byNS[ns] = append(byNS[ns], pid)
	}
	var out []Socket
	for _, ns := range order {
		want := map[uint64]Socket{}
		members := byNS[ns]
		for _, pid := range members {
			if readTables(root, pid, ns, lo, hi, want) {
				break
			}
		}
		if len(want) == 0 {
			continue
		}
		out = append(out, owners(root, members, want)...)
	}
	slices.SortFunc(out, func(a, b Socket) int { return cmp.Compare(a.Inode, b.Inode) })
	return out, nil
}

// netNS reads the inode of a process's network namespace from the
// "net:[4026531840]" link.
func netNS(root string, pid uint32) (uint64, bool) {
	l, err := os.Readlink(filepath.Join(root, strconv.FormatUint(uint64(pid), 10), "ns", "net"))
	if err != nil {
		return 0, false
	}
	s, ok := strings.CutPrefix(l, "net:[")
	s, ok2 := strings.CutSuffix(s, "]")
	n, err := strconv.ParseUint(s, 10, 64)
	return n, ok && ok2 && err == nil
}

// readTables adds the listening sockets of pid's namespace to want; false
// when the process's tables could not be read.
func readTables(root string, pid uint32, ns uint64, lo, hi uint16, want map[uint64]Socket) bool {
	dir := filepath.Join(root, strconv.FormatUint(uint64(pid), 10), "net")
	read := false
	for _, t := range []struct {
		file  string
		proto Proto
	}{{"tcp", TCP}, {"tcp6", TCP}, {"udp", UDP}, {"udp6", UDP}} {
		data, err := os.ReadFile(filepath.Join(dir, t.file))
		if err != nil {
			continue
		}
		read = true
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			s, ok := proc.ParseInetLine(bytes.TrimSpace(line))
			if !ok || s.Inode == 0 || s.Local.Port() == 0 {
				continue
			}
			port := s.Local.Port()
			switch {
			case t.proto == TCP && s.State == proc.TCPListen:
			case t.proto == UDP && s.State == proc.UDPUnconnected && s.Remote.Port() == 0 && (port < lo || port > hi):
			default:
				continue
			}
			addr := netip.AddrPortFrom(s.Local.Addr().Unmap(), port)
			want[s.Inode] = Socket{Addr: addr, Proto: t.proto, Inode: s.Inode, NetNS: ns}
		}
	}
	return read
}

// owners finds, for each wanted socket, the lowest pid of members with
// an fd on it.
func owners(root string, members []uint32, want map[uint64]Socket) []Socket {
	var out []Socket
	for _, pid := range members {
		fdDir := filepath.Join(root, strconv.FormatUint(uint64(pid), 10), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			l, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil {
				continue
			}
			s, ok := strings.CutPrefix(l, "socket:[")
			s, ok2 := strings.CutSuffix(s, "]")
			if !ok || !ok2 {
				continue
			}
			ino, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				continue
			}
			if sk, ok := want[ino]; ok {
				sk.PID = pid
				out = append(out, sk)
				delete(want, ino)
			}
		}
		if len(want) == 0 {
			break
		}
	}
	return out
}

// ephemeralRange reads the ports the kernel picks for unbound sockets,
// 32768-60999 when unreadable.
func ephemeralRange(root string) (uint16, uint16) {
	data, err := os.ReadFile(filepath.Join(root, "sys", "net", "ipv4", "ip_local_port_range"))
	if err != nil {
		return 32768, 60999
	}
	f := strings.Fields(string(data))
	if len(f) != 2 {
		return 32768, 60999
	}
	lo, err1 := strconv.ParseUint(f[0], 10, 16)
	hi, err2 := strconv.ParseUint(f[1], 10, 16)
	if err1 != nil || err2 != nil || lo > hi {
		return 32768, 60999
	}
	return uint16(lo), uint16(hi)
}
