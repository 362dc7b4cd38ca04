package proc

import "bytes"

// statusInfo holds the /proc/<pid>/status fields the table uses.
type statusInfo struct {
	UID, EUID    uint32
	GID, EGID    uint32
	CapEffective uint64
	CapPermitted uint64
}

// parseStatus extracts ids and capabilities from /proc/<pid>/status. It
// reports whether the Uid and Gid lines were both found; capability lines
// are optional (a missing one leaves 0) because some kernels and
// sandboxes hide them.
func parseStatus(b []byte) (statusInfo, bool) {
	var s statusInfo
	var haveUID, haveGID bool
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		key, val := line[:colon], line[colon+1:]
		switch string(key) { // does not allocate: the compiler compares in place
		case "Uid":
			s.UID, s.EUID, haveUID = twoIDs(val)
		case "Gid":
			s.GID, s.EGID, haveGID = twoIDs(val)
		case "CapEff":
			s.CapEffective, _ = parseHex(trimSpace(val))
		case "CapPrm":
			s.CapPermitted, _ = parseHex(trimSpace(val))
		}
	}
	return s, haveUID && haveGID
}

// twoIDs reads the real and effective ids from "real effective saved fs".
func twoIDs(b []byte) (real, eff uint32, ok bool) {
	f, b := nextField(b)
	real, ok1 := parseUint32(f)
	f, _ = nextField(b)
	eff, ok2 := parseUint32(f)
	return real, eff, ok1 && ok2
}
