package baseline

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/internal/syscalls"
)

// Fact is one observed behaviour, as the event path hands it to
// Engine.Observe. Which fields count depends on Dim:
//
//	DimExec        Path (the executable), Identity
//	DimExecEdge    Parent (the parent's executable), Path (the child's)
//	DimFileWrite   Path
//	DimFileRead    Path
//	DimListen      Port, Proto
//	DimOutbound    Addr, Port, Proto, Name (the peer's DNS name, "" if unknown)
//	DimInbound     Addr (the client), Port (the local port), Proto
//	DimSyscall     Num (the syscall number on this architecture)
//	DimCapability  Num (the capability number)
//	DimUser        Num (the uid)
//
// Strings may point into an event: the engine copies what it keeps. A
// Fact is comparable, so it can key the engine's small maps without
// allocating.
type Fact struct {
	Dim      Dimension
	Path     string
	Parent   string
	Identity string
	Name     string
	Addr     netip.Addr
	Port     uint16
	Proto    Proto
	Num      uint32
}

// items converts the fact to what the dimension learns. It allocates.
func (f *Fact) items() []Item {
	d := f.Dim
	switch d {
	case DimExec:
		return []Item{{Dim: d, A: strings.Clone(f.Path), B: strings.Clone(f.Identity)}}
	case DimExecEdge:
		return []Item{{Dim: d, A: strings.Clone(f.Parent), B: strings.Clone(f.Path)}}
	case DimFileWrite, DimFileRead:
		return []Item{{Dim: d, A: strings.Clone(f.Path)}}
	case DimListen:
		return []Item{{Dim: d, A: f.Proto.String(), B: strconv.Itoa(int(f.Port))}}
	case DimOutbound, DimInbound:
		a := f.Addr.Unmap()
		out := []Item{{Dim: d, A: netip.PrefixFrom(a, a.BitLen()).String(), B: portProto(f.Proto, f.Port)}}
		if f.Name != "" {
			out = append(out, Item{Dim: d, A: "dns:" + strings.ToLower(f.Name), B: portProto(f.Proto, f.Port)})
		}
		return out
	case DimSyscall:
		if it, ok := syscallItem(f.Num); ok {
			return []Item{it}
		}
	case DimCapability:
		if it, ok := capItem(f.Num); ok {
			return []Item{it}
		}
	case DimUser:
		return []Item{{Dim: d, A: strconv.FormatUint(uint64(f.Num), 10)}}
	}
	return nil
}

// Value renders the fact's value for an alert.
func (f *Fact) Value() string {
	switch f.Dim {
	case DimExec:
		if f.Identity != "" {
			return f.Path + " (" + f.Identity + ")"
		}
		return f.Path
	case DimExecEdge:
		return f.Parent + " -> " + f.Path
	case DimFileWrite, DimFileRead:
		return f.Path
	case DimListen:
		return f.Proto.String() + "/" + strconv.Itoa(int(f.Port))
	case DimOutbound, DimInbound:
		s := netip.AddrPortFrom(f.Addr.Unmap(), f.Port).String() + "/" + f.Proto.String()
		if f.Name != "" {
			s += " (" + f.Name + ")"
		}
		return s
	case DimSyscall:
		if n := syscalls.Name(int32(f.Num)); n != "" {
			return n
		}
	case DimCapability:
		if n := CapName(f.Num); n != "" {
			return n
		}
	}
	return strconv.FormatUint(uint64(f.Num), 10)
}

// view is one workload's baseline at one moment. It is immutable once
// published: learning builds a new view that shares the dimensions it
// did not change, so the event path reads it without a lock.
type view struct {
	exec   *ExecSet
	edges  *EdgeSet
	writes *PathSet
	reads  *PathSet
	listen *PortSet
	out    *PeerSet
	in     *PeerSet
	sys    bitset
	caps   bitset
	users  *UIDSet
}

var emptyView = &view{exec: emptyExecs, edges: emptyEdges, writes: emptyPaths, reads: emptyPaths,
	listen: emptyPorts, out: emptyPeers, in: emptyPeers, users: emptyUIDs}

// known reports whether the view holds f. It does not allocate.
func (v *view) known(f *Fact) bool {
	switch f.Dim {
	case DimExec:
		return v.exec.Known(f.Path, f.Identity)
	case DimExecEdge:
		return v.edges.Known(f.Parent, f.Path)
	case DimFileWrite:
		return v.writes.Match(f.Path)
	case DimFileRead:
		return v.reads.Match(f.Path)
	case DimListen:
		return v.listen.Known(f.Proto, f.Port)
	case DimOutbound:
		return v.out.Known(f.Addr, f.Port, f.Proto, f.Name)
	case DimInbound:
		return v.in.Known(f.Addr, f.Port, f.Proto, "")
	case DimSyscall:
		return v.sys.has(f.Num)
	case DimCapability:
		return v.caps.has(f.Num)
	case DimUser:
		return v.users.Known(f.Num)
	}
	return true
}

// with returns the view with adds (all of dimension d) learned.
func (v *view) with(d Dimension, adds []Item, lim Limits) (*view, []Item, []Item) {
	n := *v
	var added, removed []Item
	switch d {
	case DimExec:
		n.exec, added, removed = v.exec.with(adds, lim)
	case DimExecEdge:
		n.edges, added, removed = v.edges.with(adds, lim)
	case DimFileWrite, DimFileRead:
		cur := &n.writes
		if d == DimFileRead {
			cur = &n.reads
		}
		var a, r []string
		*cur, a, r = (*cur).With(itemsA(adds), lim)
		added, removed = pathItems(d, a), pathItems(d, r)
	case DimListen:
		n.listen, added, removed = v.listen.with(adds, lim)
	case DimOutbound:
		n.out, added, removed = v.out.with(d, adds, lim)
	case DimInbound:
		n.in, added, removed = v.in.with(d, adds, lim)
	case DimSyscall, DimCapability:
		bits := &n.sys
		if d == DimCapability {
			bits = &n.caps
		}
		for _, it := range adds {
			if num, ok := bitNumber(d, it.A); ok && bits.set(num) {
				added = append(added, Item{Dim: d, A: it.A})
			}
		}
	case DimUser:
		n.users, added, removed = v.users.with(adds, lim)
	}
	if len(added) == 0 && len(removed) == 0 {
		return v, nil, nil
	}
	return &n, added, removed
}

func bitNumber(d Dimension, name string) (uint32, bool) {
	if d == DimCapability {
		return ParseCap(name)
	}
	nr, ok := syscalls.Number(name)
	return uint32(nr), ok && nr >= 0 && nr < 512
}

func itemsA(its []Item) []string {
	out := make([]string, len(its))
	for i, it := range its {
		out[i] = it.A
	}
	return out
}

func pathItems(d Dimension, ps []string) []Item {
	out := make([]Item, len(ps))
	for i, p := range ps {
		out[i] = Item{Dim: d, A: p}
	}
	return out
}

// items returns every item of the view, by dimension.
func (v *view) items() []Item {
	var out []Item
	out = append(out, v.exec.items()...)
	out = append(out, v.edges.items()...)
	out = append(out, pathItems(DimFileWrite, v.writes.Patterns())...)
	out = append(out, pathItems(DimFileRead, v.reads.Patterns())...)
	out = append(out, v.listen.items()...)
	out = append(out, v.out.items(DimOutbound)...)
	out = append(out, v.in.items(DimInbound)...)
	for nr := range uint32(512) {
		if v.sys.has(nr) {
			if it, ok := syscallItem(nr); ok {
				out = append(out, it)
			}
		}
	}
	for c := range uint32(64) {
		if v.caps.has(c) {
			if it, ok := capItem(c); ok {
				out = append(out, it)
			}
		}
	}
	return append(out, v.users.items()...)
}

// sizes returns the number of entries of each dimension.
func (v *view) sizes() [NumDimensions]int {
	return [NumDimensions]int{
		DimExec: v.exec.paths.Len(), DimExecEdge: v.edges.Len(), DimFileWrite: v.writes.Len(),
		DimFileRead: v.reads.Len(), DimListen: len(v.listen.ranges), DimOutbound: v.out.Len(),
		DimInbound: v.in.Len(), DimSyscall: v.sys.count(), DimCapability: v.caps.count(),
		DimUser: len(v.users.items()),
	}
}
