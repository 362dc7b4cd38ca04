package proc

import "unsafe"

// An fd set is a persistent trie keyed by fd number: every change copies
// the path from the root to the changed leaf and shares the rest, so a
// fork hands the child its parent's set in O(1) and readers walk a
// structure nobody modifies. fds are small dense integers, so the trie is
// a plain radix tree (no hashing), and a process whose fds stay below 16
// has its root leaf and nothing else.
//
// Every change allocates its copies, and on a busy host that garbage is
// most of what the table costs; hence one node type for inner nodes and
// leaves (an untyped slot array, its meaning given by the level), and a
// root held by value in the set.

const (
	fdBits = 4
	fdFan  = 1 << fdBits
	fdMask = fdFan - 1
	// fdMaxDepth inner levels above the leaves cover every non-negative
	// int32: 16^8 = 2^32.
	fdMaxDepth = 7
)

// fdNode is 16 slots: children (*fdNode) in an inner node, entries (*FD)
// in a leaf. The garbage collector traces unsafe.Pointer like any pointer.
type fdNode struct {
	slot    [fdFan]unsafe.Pointer
	cloexec uint16 // leaves: close-on-exec per slot, a property of the fd, not of the file
	used    uint8  // non-nil slots
}

func (n *fdNode) kid(i uint32) *fdNode { return (*fdNode)(n.slot[i]) }
func (n *fdNode) entry(i uint32) *FD   { return (*FD)(n.slot[i]) }

// fdSet is one immutable version of a process's fds.
type fdSet struct {
	root     fdNode // a leaf when depth is 0
	depth    uint8  // inner levels above the leaves
	n        int32  // fds in the set
	nCloexec int32  // of which close-on-exec
}

// fits reports whether fd u can be stored at the set's depth.
func (s *fdSet) fits(u uint32) bool {
	shift := fdBits * (uint32(s.depth) + 1)
	return shift >= 32 || u>>shift == 0
}

// get returns fd's entry and close-on-exec bit.
func (s *fdSet) get(fd int32) (*FD, bool, bool) {
	if s == nil || fd < 0 {
		return nil, false, false
	}
	u := uint32(fd)
	if !s.fits(u) {
		return nil, false, false
	}
	n := &s.root
	for lvl := uint32(s.depth); lvl > 0; lvl-- {
		if n = n.kid((u >> (fdBits * lvl)) & fdMask); n == nil {
			return nil, false, false
		}
	}
	i := u & fdMask
	e := n.entry(i)
	return e, e != nil && n.cloexec>>i&1 != 0, e != nil
}

// with returns a copy of s in which fd maps to e (nil removes it) with
// the given close-on-exec bit. s itself is left untouched.
func (s fdSet) with(fd int32, e *FD, cloexec bool) fdSet {
	out := s
	if fd < 0 {
		return out
	}
	u := uint32(fd)
	if e == nil && !out.fits(u) {
		return out // nothing is stored that high
	}
	for !out.fits(u) {
		old := out.root
		out.root = fdNode{}
		if old.used > 0 {
			out.root.slot[0], out.root.used = unsafe.Pointer(&old), 1
		}
		out.depth++
	}
	old, oldCloexec := setIn(&out.root, uint32(out.depth), u, e, cloexec)
	if old != nil {
		out.n--
		if oldCloexec {
			out.nCloexec--
		}
	}
	if e != nil {
		out.n++
		if cloexec {
			out.nCloexec++
		}
	}
	return out
}

// setIn sets fd u below n, a node at level lvl that the caller owns (a
// fresh copy, or the root inside a copied set), copying the nodes on the
// way down, and returns what the slot held before.
func setIn(n *fdNode, lvl, u uint32, e *FD, cloexec bool) (*FD, bool) {
	if lvl == 0 {
		i := u & fdMask
		old, oldCloexec := n.entry(i), n.cloexec>>i&1 != 0
		switch {
		case old == nil && e != nil:
			n.used++
		case old != nil && e == nil:
			n.used--
		}
		n.slot[i] = unsafe.Pointer(e)
		n.cloexec &^= 1 << i
		if e != nil && cloexec {
			n.cloexec |= 1 << i
		}
		return old, oldCloexec
	}
	i := (u >> (fdBits * lvl)) & fdMask
	child := n.kid(i)
	if child == nil && e == nil {
		return nil, false // removing what is not there changes nothing
	}
	c := &fdNode{}
	if child != nil {
		*c = *child
	}
	old, oldCloexec := setIn(c, lvl-1, u, e, cloexec)
	switch {
	case c.used == 0 && child != nil:
		n.slot[i], n.used = nil, n.used-1 // prune an emptied subtree
	case c.used > 0:
		if child == nil {
			n.used++
		}
		n.slot[i] = unsafe.Pointer(c)
	}
	return old, oldCloexec
}

// each calls fn for every fd in ascending order until fn returns false,
// and reports whether it ran to the end.
func (s *fdSet) each(fn func(fd int32, e *FD, cloexec bool) bool) bool {
	if s == nil {
		return true
	}
	return eachIn(&s.root, uint32(s.depth), 0, fn)
}

func eachIn(n *fdNode, lvl, base uint32, fn func(int32, *FD, bool) bool) bool {
	if n == nil || n.used == 0 {
		return true
	}
	for i := range uint32(fdFan) {
		if n.slot[i] == nil {
			continue
		}
		b := base | i<<(fdBits*lvl)
		if b > 1<<31-1 {
			return true // fds are int32: nothing is stored beyond
		}
		var ok bool
		if lvl == 0 {
			ok = fn(int32(b), n.entry(i), n.cloexec>>i&1 != 0)
		} else {
			ok = eachIn(n.kid(i), lvl-1, b, fn)
		}
		if !ok {
			return false
		}
	}
	return true
}

// withoutCloexec returns the set an exec leaves: s minus its
// close-on-exec fds.
func (s fdSet) withoutCloexec() fdSet {
	if s.nCloexec == 0 {
		return s
	}
	out := s
	s.each(func(fd int32, _ *FD, cloexec bool) bool {
		if cloexec {
			out = out.with(fd, nil, false)
		}
		return true
	})
	return out
}
