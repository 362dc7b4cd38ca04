package proc

// DefaultMaxDepth is the ancestry depth Ancestors walks when asked for 0.
const DefaultMaxDepth = 64

// maxDepthLimit bounds the walk whatever the caller asks for; it sizes the
// on-stack loop detector, so the walk never allocates.
const maxDepthLimit = 128

// Ancestors calls fn with the parent of pid, then its parent, and so on,
// until fn returns false, pid 1 has been visited, a parent pid is 0 or
// unknown, the chain loops, or max ancestors have been visited (max <= 0
// means DefaultMaxDepth). It returns how many ancestors fn was given.
//
// pid itself and each parent are looked up among live processes first
// and then among those that exited recently (see Exited): an event is
// often handled after its process's parent has exited, and the parent is
// still part of the event's ancestry. Each step takes its own snapshot,
// so a chain read while processes fork and die is consistent link by
// link, not as a whole.
func (t *Table) Ancestors(pid uint32, max int, fn func(Process) bool) int {
	if max <= 0 {
		max = DefaultMaxDepth
	}
	if max > maxDepthLimit {
		max = maxDepthLimit
	}
	var cur Process
	if !t.getOrRecent(pid, &cur) {
		return 0
	}
	// Reparenting races and bad data can make a chain loop; remembering
	// what we visited is cheaper than it sounds at these depths.
	var seen [maxDepthLimit + 1]uint32
	seen[0] = pid
	n := 0
	for n < max && cur.PID != 1 {
		ppid := cur.PPID
		if ppid == 0 || visited(seen[:n+1], ppid) {
			break
		}
		if !t.getOrRecent(ppid, &cur) {
			break
		}
		n++
		seen[n] = ppid
		if !fn(cur) {
			break
		}
	}
	return n
}

func visited(seen []uint32, pid uint32) bool {
	for _, s := range seen {
		if s == pid {
			return true
		}
	}
	return false
}

// AppendAncestors appends pid's ancestors, nearest first, to dst and
// returns the extended slice, following the same rules as Ancestors. It
// allocates only if dst runs out of capacity.
func (t *Table) AppendAncestors(dst []Process, pid uint32, max int) []Process {
	t.Ancestors(pid, max, func(p Process) bool {
		dst = append(dst, p)
		return true
	})
	return dst
}
