package baseline

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/internal/syscalls"
)

// portRange is one entry of a PortSet.
type portRange struct {
	proto  Proto
	lo, hi uint16
}

// PortSet is an immutable set of listening ports by protocol.
type PortSet struct{ ranges []portRange }

var emptyPorts = &PortSet{}

// Known reports whether port over proto is in the set. It does not
// allocate.
func (s *PortSet) Known(proto Proto, port uint16) bool {
	for _, r := range s.ranges {
		if (r.proto == ProtoAny || r.proto == proto) && port >= r.lo && port <= r.hi {
			return true
		}
	}
	return false
}

func (s *PortSet) items() []Item {
	out := make([]Item, 0, len(s.ranges))
	for _, r := range s.ranges {
		b := strconv.Itoa(int(r.lo))
		if r.hi != r.lo {
			b += "-" + strconv.Itoa(int(r.hi))
		}
		out = append(out, Item{Dim: DimListen, A: r.proto.String(), B: b})
	}
	return out
}

func parsePortItem(it Item) (portRange, error) {
	proto, ok := ParseProto(it.A)
	if !ok {
		return portRange{}, fmt.Errorf("protocol %q: want tcp, udp or any", it.A)
	}
	los, his, isRange := strings.Cut(it.B, "-")
	lo, err := strconv.ParseUint(los, 10, 16)
	if err != nil || lo == 0 {
		return portRange{}, fmt.Errorf("port %q: want 1-65535 or a range lo-hi", it.B)
	}
	hi := lo
	if isRange {
		hi, err = strconv.ParseUint(his, 10, 16)
		if err != nil || hi < lo {
			return portRange{}, fmt.Errorf("port range %q: want lo-hi with lo <= hi", it.B)
		}
	}
	return portRange{proto, uint16(lo), uint16(hi)}, nil
}

// with learns ports within lim.Cap: past it, a protocol's ports from 1024
// up become one range 1024-65535, and then every protocol one range.
func (s *PortSet) with(adds []Item, lim Limits) (*PortSet, []Item, []Item) {
	rs := slices.Clone(s.ranges)
	changed := false
	for _, it := range adds {
		r, err := parsePortItem(it)
		if err != nil || (&PortSet{rs}).covers(r) {
			continue
		}
		rs = append(rs, r)
		changed = true
		if len(rs) > lim.Cap {
			rs = foldPorts(rs, r.proto, 1024)
		}
		if len(rs) > lim.Cap {
			rs = []portRange{{ProtoAny, 1, 65535}}
		}
	}
	if !changed {
		return s, nil, nil
	}
	slices.SortFunc(rs, func(a, b portRange) int {
		if a.proto != b.proto {
			return int(a.proto) - int(b.proto)
		}
		return int(a.lo) - int(b.lo)
	})
	next := &PortSet{rs}
	added, removed := diffItems(s.items(), next.items())
	return next, added, removed
}

func (s *PortSet) covers(r portRange) bool {
	for _, e := range s.ranges {
		if (e.proto == ProtoAny || e.proto == r.proto) && e.lo <= r.lo && e.hi >= r.hi {
			return true
		}
	}
	return false
}

// foldPorts replaces proto's ranges at or above from by from-65535.
func foldPorts(rs []portRange, proto Proto, from uint16) []portRange {
	rs = slices.DeleteFunc(rs, func(r portRange) bool { return r.proto == proto && r.lo >= from })
	return append(rs, portRange{proto, from, 65535})
}

// bitset is a fixed set of small numbers: syscall numbers (below 512)
// and capabilities (below 64).
type bitset [8]uint64

func (b *bitset) has(n uint32) bool { return n < 512 && b[n>>6]&(1<<(n&63)) != 0 }

func (b *bitset) set(n uint32) bool {
	if n >= 512 || b.has(n) {
		return false
	}
	b[n>>6] |= 1 << (n & 63)
	return true
}

func (b *bitset) count() int {
	n := 0
	for i := range uint32(512) {
		if b.has(i) {
			n++
		}
	}
	return n
}

// syscallItem and capItem name a number for the store and exports.
func syscallItem(nr uint32) (Item, bool) {
	name := syscalls.Name(int32(nr))
	return Item{Dim: DimSyscall, A: name}, name != ""
}

func capItem(c uint32) (Item, bool) {
	name := CapName(c)
	return Item{Dim: DimCapability, A: name}, name != ""
}

// UIDSet is an immutable set of user ids, or every user once it
// outgrew its cap.
type UIDSet struct {
	ids map[uint32]struct{}
	any bool
}

var emptyUIDs = &UIDSet{}

// Known reports whether uid is in the set. It does not allocate.
func (s *UIDSet) Known(uid uint32) bool {
	if s.any {
		return true
	}
	_, ok := s.ids[uid]
	return ok
}

func (s *UIDSet) items() []Item {
	if s.any {
		return []Item{{Dim: DimUser, A: "*"}}
	}
	ids := make([]uint32, 0, len(s.ids))
	for id := range s.ids {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]Item, len(ids))
	for i, id := range ids {
		out[i] = Item{Dim: DimUser, A: strconv.FormatUint(uint64(id), 10)}
	}
	return out
}

func parseUIDItem(it Item) (uint32, bool, error) {
	if it.A == "*" {
		return 0, true, nil
	}
	v, err := strconv.ParseUint(it.A, 10, 32)
	if err != nil {
		return 0, false, fmt.Errorf("user %q: want a numeric uid or *", it.A)
	}
	return uint32(v), false, nil
}

// with learns user ids; past lim.Cap the set becomes "every user".
func (s *UIDSet) with(adds []Item, lim Limits) (*UIDSet, []Item, []Item) {
	if s.any {
		return s, nil, nil
	}
	ids := make(map[uint32]struct{}, len(s.ids)+1)
	for id := range s.ids {
		ids[id] = struct{}{}
	}
	next := &UIDSet{ids: ids}
	changed := false
	for _, it := range adds {
		uid, any, err := parseUIDItem(it)
		if err != nil {
			continue
		}
		if any || len(ids) >= lim.Cap && !next.Known(uid) {
			next = &UIDSet{any: true}
			changed = true
			break
		}
		if !next.Known(uid) {
			ids[uid] = struct{}{}
			changed = true
		}
	}
	if !changed {
		return s, nil, nil
	}
	added, removed := diffItems(s.items(), next.items())
	return next, added, removed
}
