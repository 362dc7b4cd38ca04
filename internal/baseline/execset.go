package baseline

import (
	"maps"
	"slices"
)

// maxIdentities is how many identities one executable path keeps: a
// binary upgraded in place a few times stays known under each version;
// past that the oldest is forgotten.
const maxIdentities = 4

// ExecSet is an immutable set of executables: path patterns, and for an
// exact path the identities of the files seen there. A path learned
// without an identity, or covered by a pattern, accepts any file.
type ExecSet struct {
	paths *PathSet
	ids   map[string][]string // exact path -> identities, oldest first
}

var emptyExecs = &ExecSet{paths: emptyPaths}

// Known reports whether the file with identity id ("" when unknown) at
// path is in the set. It does not allocate.
func (s *ExecSet) Known(path, id string) bool {
	if ids, ok := s.ids[path]; ok {
		return id == "" || slices.Contains(ids, id)
	}
	return s.paths.Match(path)
}

// KnownPath reports whether anything at path is in the set, whatever its
// identity.
func (s *ExecSet) KnownPath(path string) bool {
	_, ok := s.ids[path]
	return ok || s.paths.Match(path)
}

func (s *ExecSet) items() []Item {
	out := make([]Item, 0, s.paths.Len())
	for _, p := range s.paths.Patterns() {
		ids := s.ids[p]
		if len(ids) == 0 {
			out = append(out, Item{Dim: DimExec, A: p})
			continue
		}
		for _, id := range slices.Sorted(slices.Values(ids)) {
			out = append(out, Item{Dim: DimExec, A: p, B: id})
		}
	}
	return out
}

// with learns executables. A path that Normalise changes, or that
// generalisation folds into a pattern, loses its identities: a pattern
// stands for many files.
func (s *ExecSet) with(adds []Item, lim Limits) (*ExecSet, []Item, []Item) {
	ids := maps.Clone(s.ids)
	var newPaths []string
	changed := false
	for _, it := range adds {
		p := it.A
		if cur, ok := ids[p]; ok {
			if it.B == "" || slices.Contains(cur, it.B) {
				continue
			}
			cur = append(slices.Clone(cur), it.B)
			if len(cur) > maxIdentities {
				cur = cur[len(cur)-maxIdentities:]
			}
			ids[p], changed = cur, true
			continue
		}
		if _, exact := s.paths.exact[p]; exact && it.B != "" {
			// Learned before without an identity (the process was gone
			// before its file could be read): the first identity seen
			// pins it.
			if ids == nil {
				ids = make(map[string][]string)
			}
			ids[p], changed = []string{it.B}, true
			continue
		}
		if s.paths.Match(p) || slices.Contains(newPaths, p) {
			continue
		}
		newPaths = append(newPaths, p)
		if it.B != "" && Normalise(p) == p && !hasWildcard(p) {
			if ids == nil {
				ids = make(map[string][]string)
			}
			ids[p] = []string{it.B}
		}
		changed = true
	}
	if !changed {
		return s, nil, nil
	}
	paths, _, _ := s.paths.With(newPaths, lim)
	for p := range ids {
		if _, exact := paths.exact[p]; !exact {
			delete(ids, p)
		}
	}
	next := &ExecSet{paths: paths, ids: ids}
	added, removed := diffItems(s.items(), next.items())
	return next, added, removed
}

// EdgeSet is an immutable set of parent -> child executable edges: per
// parent pattern, the set of child patterns it may run.
type EdgeSet struct {
	exact map[string]*PathSet // parents without a wildcard
	globs map[string]*PathSet // parents with one ("/**" once the set was full)
	n     int
}

var emptyEdges = &EdgeSet{}

// anyParent is the parent of every edge once the set outgrew its cap.
const anyParent = "/" + anyDepth

// Known reports whether parent may run child. It does not allocate.
func (s *EdgeSet) Known(parent, child string) bool {
	if c, ok := s.exact[parent]; ok && c.Match(child) {
		return true
	}
	for g, c := range s.globs {
		if MatchPattern(g, parent) && c.Match(child) {
			return true
		}
	}
	return false
}

func (s *EdgeSet) items() []Item {
	var out []Item
	for _, m := range []map[string]*PathSet{s.exact, s.globs} {
		for p, c := range m {
			for _, child := range c.Patterns() {
				out = append(out, Item{Dim: DimExecEdge, A: p, B: child})
			}
		}
	}
	slices.SortFunc(out, func(a, b Item) int {
		if a.Less(b) {
			return -1
		}
		if b.Less(a) {
			return 1
		}
		return 0
	})
	return out
}

// with learns edges. Parents and children are normalised like paths;
// each parent's children are generalised within lim.FanOut patterns
// (lim.FanOut as their cap, 64 when unset), and when the whole set
// exceeds lim.Cap every parent is forgotten: the edges become "any
// parent may run <child>", which keeps every child known.
func (s *EdgeSet) with(adds []Item, lim Limits) (*EdgeSet, []Item, []Item) {
	childLim := Limits{Cap: lim.FanOut}
	if childLim.Cap <= 0 {
		childLim.Cap = 64
	}
	byParent := map[string][]string{}
	for _, it := range adds {
		parent, child := Normalise(it.A), it.B
		if parent == "" || child == "" || s.Known(parent, child) {
			continue
		}
		byParent[parent] = append(byParent[parent], child)
	}
	if len(byParent) == 0 {
		return s, nil, nil
	}
	next := &EdgeSet{exact: maps.Clone(s.exact), globs: maps.Clone(s.globs)}
	for _, parent := range slices.Sorted(maps.Keys(byParent)) {
		m := &next.exact
		if hasWildcard(parent) {
			m = &next.globs
		}
		if *m == nil {
			*m = make(map[string]*PathSet)
		}
		cur := (*m)[parent]
		if cur == nil {
			cur = emptyPaths
		}
		(*m)[parent], _, _ = cur.With(byParent[parent], childLim)
	}
	next.count()
	if next.n > lim.Cap {
		var children []string
		for _, m := range []map[string]*PathSet{next.exact, next.globs} {
			for _, c := range m {
				children = append(children, c.Patterns()...)
			}
		}
		all, _, _ := emptyPaths.With(children, Limits{Cap: max(lim.Cap, 1)})
		next = &EdgeSet{globs: map[string]*PathSet{anyParent: all}}
		next.count()
	}
	added, removed := diffItems(s.items(), next.items())
	return next, added, removed
}

func (s *EdgeSet) count() {
	s.n = 0
	for _, c := range s.exact {
		s.n += c.Len()
	}
	for _, c := range s.globs {
		s.n += c.Len()
	}
}

// Len returns the number of edges.
func (s *EdgeSet) Len() int { return s.n }
