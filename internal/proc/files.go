package proc

import "sync/atomic"

// Files is a process's fd table. The table keeps one per process (threads
// share it, as they share the kernel's) and the entry's Files pointer never
// changes, so readers hold on to it freely.
//
// Each change publishes a new immutable version, stamped with the time of
// the event that made it and linked to the version before. The links exist
// for forks: a fork is handled on the child's pipeline worker, possibly
// after the parent's worker has applied later events (the classic
// accept, fork, close in the parent), and the child must inherit the fds
// as they were at the fork, not as they are when the fork is handled. A
// short history covers that lag; see trim.
//
// A forked child starts from its parent's version itself, shared, so a
// fork costs one small allocation; the child's own versions link back to
// it, and the child never modifies it or anything behind it.
type Files struct {
	head atomic.Pointer[fdVersion]
	kept atomic.Int32 // versions linked behind head, roughly
	base *fdVersion   // the version inherited at fork, owned by the parent
}

// fdVersion is one state of a Files: the set and the event time it took
// effect.
type fdVersion struct {
	set  fdSet
	ts   uint64
	prev atomic.Pointer[fdVersion]
}

// History bounds. A fork waits only for its parent's earlier events, so
// the parent runs ahead by what the child's worker lags: a few events
// usually, more when a worker is starved of CPU. A process keeps the
// versions of the last second of event time, at most 2*fdHistory of them
// (some 40 KiB for a process that changes its fds that fast); a fork
// older than that inherits the oldest kept and is counted in
// Stats().FDForkStale.
const (
	fdHistory       = 64
	fdHistoryWindow = uint64(1e9) // ns
)

// emptySet is the set of a Files without versions, and emptyVersion the
// version a child of an unknown parent starts from; nobody writes either.
var (
	emptySet     fdSet
	emptyVersion fdVersion
)

// newFiles returns a Files whose first version is set, as of ts.
func newFiles(set fdSet, ts uint64) *Files {
	f := &Files{}
	f.head.Store(&fdVersion{set: set, ts: ts})
	return f
}

// FDSet is an immutable snapshot of a process's fds. The zero value is an
// empty set.
type FDSet struct{ v *fdVersion }

// Current returns the process's fds as the table knows them now.
func (f *Files) Current() FDSet {
	if f == nil {
		return FDSet{}
	}
	return FDSet{f.head.Load()}
}

// At returns the process's fds as they were at event time ts: the newest
// version no later than ts. exact is false when the history no longer
// reaches back that far, in which case the oldest version kept is
// returned.
func (f *Files) At(ts uint64) (s FDSet, exact bool) {
	if f == nil {
		return FDSet{}, false
	}
	var last *fdVersion
	for v := f.head.Load(); v != nil; v = v.prev.Load() {
		if v.ts <= ts {
			return FDSet{v}, true
		}
		last = v
	}
	return FDSet{last}, false
}

// Lookup returns the entry for fd, or false when the process has no such
// fd or the table does not know it.
func (s FDSet) Lookup(fd int32) (*FD, bool) {
	if s.v == nil {
		return nil, false
	}
	e, _, ok := s.v.set.get(fd)
	return e, ok
}

// Cloexec reports whether fd is open with close-on-exec.
func (s FDSet) Cloexec(fd int32) bool {
	if s.v == nil {
		return false
	}
	_, c, _ := s.v.set.get(fd)
	return c
}

// Len returns the number of fds.
func (s FDSet) Len() int {
	if s.v == nil {
		return 0
	}
	return int(s.v.set.n)
}

// Each calls fn for every fd in ascending order until fn returns false.
func (s FDSet) Each(fn func(fd int32, e *FD, cloexec bool) bool) {
	if s.v != nil {
		s.v.set.each(fn)
	}
}

// update publishes change(current) as of ts. change returns false when
// nothing changes. Writers of one process are normally a single pipeline
// worker; the compare-and-swap keeps concurrent writers from losing each
// other's changes all the same.
func (f *Files) update(ts uint64, change func(cur *fdSet) (fdSet, bool)) {
	for {
		cur := f.head.Load()
		// Versions are immutable, so change reads the current one in
		// place (a copy would escape through the func value).
		base := &emptySet
		if cur != nil {
			base = &cur.set
		}
		next, changed := change(base)
		if !changed {
			return
		}
		if cur != nil && ts < cur.ts {
			ts = cur.ts // keep the chain ordered even if clocks disagree
		}
		nv := &fdVersion{set: next, ts: ts}
		nv.prev.Store(cur)
		if f.head.CompareAndSwap(cur, nv) {
			f.trim(nv, cur)
			return
		}
	}
}

// trim bounds the history behind nv, whose predecessor is cur. A fork
// older than cur needs a version older than cur only if it happened more
// than fdHistoryWindow before nv, which no pipeline lags by; beyond that,
// the chain is cut back to fdHistory versions every fdHistory updates, so
// that the walk is amortised.
// The chain is cut only among the Files's own versions: from base on it
// belongs to the parent, which bounds it.
func (f *Files) trim(nv, cur *fdVersion) {
	if cur == nil {
		return
	}
	if nv.ts-cur.ts > fdHistoryWindow {
		if cur != f.base {
			cur.prev.Store(nil)
		}
		f.kept.Store(1)
		return
	}
	if f.kept.Add(1) <= 2*fdHistory {
		return
	}
	v := nv
	for i := 0; i < fdHistory && v != nil && v != f.base; i++ {
		v = v.prev.Load()
	}
	if v != nil && v != f.base {
		v.prev.Store(nil)
	}
	f.kept.Store(fdHistory)
}

// forkFrom returns the child's Files for a fork at ts: it starts from the
// parent's version of that time, shared. exact is false when the parent's
// history no longer reached back to the fork.
func forkFrom(parent *Files, ts uint64) (child *Files, exact bool) {
	base, exact := &emptyVersion, false
	if parent != nil {
		var s FDSet
		if s, exact = parent.At(ts); s.v != nil {
			base = s.v
		}
	}
	child = &Files{base: base}
	child.head.Store(base)
	return child, exact
}
