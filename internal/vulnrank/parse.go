package vulnrank

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
)

// Socket states in /proc/net/{tcp,udp}: the kernel's TCP_LISTEN, and
// TCP_CLOSE, which an unconnected UDP socket stays in.
const (
	stateListen = 0x0A
	stateClose  = 0x07
)

// netSocket is one row of /proc/<pid>/net/{tcp,tcp6,udp,udp6}.
type netSocket struct {
	Local  netip.AddrPort
	Remote netip.AddrPort
	State  uint8
	Inode  uint64
}

// parseNet reads a /proc/net/tcp-style table. Bad rows are skipped and
// the first one is returned as an error naming its line; the good rows
// are returned either way.
func parseNet(data []byte) ([]netSocket, error) {
	var out []netSocket
	var firstErr error
	for n, line := range bytes.Split(data, []byte("\n")) {
		if n == 0 || len(bytes.TrimSpace(line)) == 0 {
			continue // the header names the columns
		}
		s, err := parseNetRow(line)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("line %d: %w", n+1, err)
			}
			continue
		}
		out = append(out, s)
	}
	return out, firstErr
}

// parseNetRow reads "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...".
func parseNetRow(line []byte) (netSocket, error) {
	f := bytes.Fields(line)
	if len(f) < 10 {
		return netSocket{}, fmt.Errorf("%d fields, want at least 10", len(f))
	}
	local, err := parseHexAddrPort(f[1])
	if err != nil {
		return netSocket{}, fmt.Errorf("local address %q: %w", f[1], err)
	}
	remote, err := parseHexAddrPort(f[2])
	if err != nil {
		return netSocket{}, fmt.Errorf("remote address %q: %w", f[2], err)
	}
	st, err := strconv.ParseUint(string(f[3]), 16, 8)
	if err != nil {
		return netSocket{}, fmt.Errorf("state %q: not a hex byte", f[3])
	}
	ino, err := strconv.ParseUint(string(f[9]), 10, 64)
	if err != nil {
		return netSocket{}, fmt.Errorf("inode %q: not a number", f[9])
	}
	return netSocket{Local: local, Remote: remote, State: uint8(st), Inode: ino}, nil
}

// parseHexAddrPort reads "0100007F:0016": the address as the kernel's
// 32-bit words printed in hex in host byte order, the port in hex.
func parseHexAddrPort(b []byte) (netip.AddrPort, error) {
	i := bytes.IndexByte(b, ':')
	if i < 0 {
		return netip.AddrPort{}, fmt.Errorf("no port")
	}
	port, err := strconv.ParseUint(string(b[i+1:]), 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("port not a 16-bit hex number")
	}
	raw := make([]byte, hex.DecodedLen(i))
	if _, err := hex.Decode(raw, b[:i]); err != nil {
		return netip.AddrPort{}, fmt.Errorf("address not hex")
	}
	if len(raw) != 4 && len(raw) != 16 {
		return netip.AddrPort{}, fmt.Errorf("address of %d bytes, want 4 or 16", len(raw))
	}
	// Each 32-bit word was printed as a number in host order; turn it back
	// into network (big-endian) order.
	for w := 0; w < len(raw); w += 4 {
		binary.BigEndian.PutUint32(raw[w:], binary.NativeEndian.Uint32(raw[w:]))
	}
	addr, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// parseMaps returns the files mapped in a /proc/<pid>/maps listing, each
// once, in order of first appearance. Anonymous mappings and pseudo paths
// ([heap], [vdso], anon_inode:...) are left out; a file replaced or
// removed since it was mapped keeps its path without the " (deleted)"
// suffix, since it is still the package's code that runs.
func parseMaps(data []byte) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	var firstErr error
	for n, line := range bytes.Split(data, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		path, inode, err := mapsPath(line)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("line %d: %w", n+1, err)
			}
			continue
		}
		if inode == 0 || len(path) == 0 || path[0] != '/' {
			continue
		}
		p := string(bytes.TrimSuffix(path, []byte(" (deleted)")))
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, firstErr
}

// mapsPath splits "addr perms offset dev inode   path": the path is the
// rest of the line after the fifth field, and may hold spaces.
func mapsPath(line []byte) ([]byte, uint64, error) {
	rest := line
	var fields [5][]byte
	for i := range fields {
		rest = bytes.TrimLeft(rest, " \t")
		end := bytes.IndexAny(rest, " \t")
		if end < 0 {
			end = len(rest)
		}
		if end == 0 {
			return nil, 0, fmt.Errorf("%d fields, want at least 5", i)
		}
		fields[i], rest = rest[:end], rest[end:]
	}
	if bytes.IndexByte(fields[0], '-') < 0 {
		return nil, 0, fmt.Errorf("address range %q has no '-'", fields[0])
	}
	inode, err := strconv.ParseUint(string(fields[4]), 10, 64)
	if err != nil {
		return nil, 0, fmt.Errorf("inode %q: not a number", fields[4])
	}
	return bytes.TrimLeft(rest, " \t"), inode, nil
}
