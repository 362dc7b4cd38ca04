package baseline

import (
	"slices"
	"strings"
)

// PathSet is an immutable set of path patterns (see Normalise for the
// syntax), built for matching on the event path: exact patterns in a
// map, patterns with wildcards grouped by their first segment. Match does
// not allocate. A set changes only by building a new one (With), which is
// where generalisation happens.
type PathSet struct {
	patterns []string            // sorted
	exact    map[string]struct{} // patterns without a wildcard
	globs    map[string][]string // wildcard patterns by first segment; "" when it has a wildcard itself
}

// emptyPaths is the set with nothing in it.
var emptyPaths = newPathSet(nil)

// NewPathSet returns the set of the given patterns, as they are: no
// generalisation, no limit. It is for tests and for fixed lists.
func NewPathSet(patterns []string) *PathSet {
	return newPathSet(slices.Clone(patterns))
}

func newPathSet(patterns []string) *PathSet {
	slices.Sort(patterns)
	patterns = slices.Compact(patterns)
	s := &PathSet{patterns: patterns, exact: make(map[string]struct{}), globs: make(map[string][]string)}
	for _, p := range patterns {
		if !hasWildcard(p) {
			s.exact[p] = struct{}{}
			continue
		}
		first, _, _ := cutSegment(p)
		if hasWildcard(first) {
			first = ""
		}
		s.globs[first] = append(s.globs[first], p)
	}
	return s
}

// Match reports whether some pattern of the set matches path p.
func (s *PathSet) Match(p string) bool {
	if _, ok := s.exact[p]; ok {
		return true
	}
	if len(s.globs) == 0 {
		return false
	}
	first, _, _ := cutSegment(p)
	for _, g := range s.globs[first] {
		if MatchPattern(g, p) {
			return true
		}
	}
	for _, g := range s.globs[""] {
		if MatchPattern(g, p) {
			return true
		}
	}
	return false
}

// Len returns the number of patterns.
func (s *PathSet) Len() int { return len(s.patterns) }

// Patterns returns the patterns, sorted. The slice must not be modified.
func (s *PathSet) Patterns() []string { return s.patterns }

// Limits bound a generalised set.
type Limits struct {
	// Cap is the most patterns the set may hold (at least 1).
	Cap int
	// FanOut is the most distinct children a directory may have before
	// they are replaced by '*' (0: no limit).
	FanOut int
}

// With returns the set with adds learned, generalised within lim, and
// the patterns that this added and removed. Every path in adds, and
// every path the set matched before, is matched by the result; the
// result holds at most lim.Cap patterns.
//
// The rule, in order, for each added path: Normalise it; skip it if the
// set already matches it; insert it, and if a directory on its way has a
// child pattern with a wildcard that matches its segment, fold it into
// that child ("/tmp/*" keeps absorbing new names under /tmp once it
// exists); if a directory now has more than FanOut children, fold them
// all into '*'. Then, while the set holds more than Cap patterns, replace
// the deepest directory whose subtree holds two or more patterns by
// "<dir>/**".
func (s *PathSet) With(adds []string, lim Limits) (next *PathSet, added, removed []string) {
	if lim.Cap < 1 {
		lim.Cap = 1
	}
	t := newTrie(s.patterns)
	changed := false
	for _, p := range adds {
		p = Normalise(p)
		if !strings.HasPrefix(p, "/") || p == "/" || t.match(p) {
			continue
		}
		t.insert(p, lim.FanOut)
		changed = true
		for t.root.count() > lim.Cap {
			t.collapseDeepest()
		}
	}
	if !changed {
		return s, nil, nil
	}
	out := t.patterns()
	added, removed = diffSorted(s.patterns, out)
	return newPathSet(out), added, removed
}

// diffSorted returns what is in b and not in a, and what is in a and not
// in b; both must be sorted.
func diffSorted(a, b []string) (onlyB, onlyA []string) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i] < b[j]:
			onlyA = append(onlyA, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			onlyB = append(onlyB, b[j])
			j++
		default:
			i++
			j++
		}
	}
	return onlyB, onlyA
}

// Nearest returns up to n patterns sharing the longest prefix with p, for
// telling people what was expected instead.
func Nearest(patterns []string, p string, n int) []string {
	type scored struct {
		s     string
		score int
	}
	best := make([]scored, 0, n+1)
	for _, q := range patterns {
		k := commonPrefix(q, p)
		i := len(best)
		for i > 0 && best[i-1].score < k {
			i--
		}
		if i >= n {
			continue
		}
		best = slices.Insert(best, i, scored{q, k})
		if len(best) > n {
			best = best[:n]
		}
	}
	out := make([]string, len(best))
	for i, b := range best {
		out[i] = b.s
	}
	return out
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
