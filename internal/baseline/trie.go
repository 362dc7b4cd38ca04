package baseline

import (
	"maps"
	"slices"
	"strings"
)

// trie is the mutable form of a PathSet, used only while learning: it
// holds the patterns by segment so that generalisation can count and
// fold a directory's children.
type trie struct{ root *tnode }

type tnode struct {
	kids map[string]*tnode
	term bool // a pattern ends here
	all  bool // "<this>/**": every path below matches
}

func newTrie(patterns []string) *trie {
	t := &trie{root: &tnode{}}
	for _, p := range patterns {
		t.insert(p, -1)
	}
	return t
}

// match reports whether the trie covers path (or pattern) p. A final
// "**" in p is covered only by a subtree wildcard.
func (t *trie) match(p string) bool {
	return t.root.match(strings.TrimPrefix(p, "/"))
}

func (n *tnode) match(p string) bool {
	if n.all {
		return true
	}
	seg, rest, more := cutSegment(p)
	if seg == anyDepth && !more {
		return false
	}
	if k := n.kids[seg]; k != nil && k.matchRest(rest, more) {
		return true
	}
	for g, k := range n.kids {
		if g != seg && hasWildcard(g) && segmentMatch(g, seg) && k.matchRest(rest, more) {
			return true
		}
	}
	return false
}

func (n *tnode) matchRest(rest string, more bool) bool {
	if !more {
		return n.term
	}
	return n.match(rest)
}

// insert adds pattern p and applies the per-directory rules on its way
// down: fold into a matching wildcard sibling, and fold all children into
// '*' past fanOut (0: never). fanOut -1 inserts p as it is, for
// rebuilding a set whose patterns were folded already: folding them
// again would widen the set behind its back.
func (t *trie) insert(p string, fanOut int) {
	n := t.root
	rest := strings.TrimPrefix(p, "/")
	for {
		if n.all {
			return
		}
		seg, r, more := cutSegment(rest)
		if seg == anyDepth && !more {
			n.all, n.kids = true, nil
			return
		}
		if n.kids == nil {
			n.kids = make(map[string]*tnode)
		}
		k := n.kids[seg]
		if k == nil {
			k = &tnode{}
			n.kids[seg] = k
		}
		if fanOut >= 0 {
			k = n.foldIntoWildcard(seg, k)
		}
		if fanOut > 0 && len(n.kids) > fanOut {
			k = n.foldAll()
		}
		if !more {
			k.term = true
			return
		}
		n, rest = k, r
	}
}

// foldIntoWildcard merges child seg into a sibling wildcard that matches
// it (or, if seg is the wildcard, merges the siblings it matches into
// it), and returns the node the walk continues in.
func (n *tnode) foldIntoWildcard(seg string, k *tnode) *tnode {
	if hasWildcard(seg) {
		for name, sib := range n.kids {
			if name != seg && segmentMatch(seg, name) {
				k.merge(sib)
				delete(n.kids, name)
			}
		}
		return k
	}
	for name, sib := range n.kids {
		if name != seg && hasWildcard(name) && segmentMatch(name, seg) {
			sib.merge(k)
			delete(n.kids, seg)
			return sib
		}
	}
	return k
}

// foldAll replaces every child by one '*' child holding their union.
func (n *tnode) foldAll() *tnode {
	star := n.kids["*"]
	if star == nil {
		star = &tnode{}
	}
	for name, k := range n.kids {
		if name != "*" {
			star.merge(k)
		}
	}
	n.kids = map[string]*tnode{"*": star}
	return star
}

// merge adds o's patterns to n (as if o's path were n's).
func (n *tnode) merge(o *tnode) {
	n.term = n.term || o.term
	if n.all || o.all {
		n.all, n.kids = true, nil
		return
	}
	for name, ok := range o.kids {
		if n.kids == nil {
			n.kids = make(map[string]*tnode)
		}
		if mine := n.kids[name]; mine != nil {
			mine.merge(ok)
		} else {
			n.kids[name] = ok
		}
	}
}

// count returns the number of patterns in the subtree.
func (n *tnode) count() int {
	c := 0
	if n.term {
		c++
	}
	if n.all {
		return c + 1
	}
	for _, k := range n.kids {
		c += k.count()
	}
	return c
}

// collapseDeepest replaces the deepest subtree whose collapse to "**"
// lowers the count (ties: the one holding most patterns) by "**".
func (t *trie) collapseDeepest() {
	var best *tnode
	bestDepth, bestCount := -1, 0
	var walk func(n *tnode, depth int) int
	walk = func(n *tnode, depth int) int {
		c := 0
		if n.term {
			c++
		}
		if n.all {
			return c + 1
		}
		below := 0
		for _, k := range n.kids {
			below += walk(k, depth+1)
		}
		// Collapsing leaves term plus one "**".
		if below >= 2 && (depth > bestDepth || depth == bestDepth && below > bestCount) {
			best, bestDepth, bestCount = n, depth, below
		}
		return c + below
	}
	walk(t.root, 0)
	if best == nil {
		// A single pattern cannot exceed any cap of at least one.
		return
	}
	best.all, best.kids = true, nil
}

// patterns returns the trie's patterns, sorted.
func (t *trie) patterns() []string {
	var out []string
	var walk func(n *tnode, prefix string)
	walk = func(n *tnode, prefix string) {
		if n.term && prefix != "" {
			out = append(out, prefix)
		}
		if n.all {
			out = append(out, prefix+"/"+anyDepth)
			return
		}
		for _, name := range slices.Sorted(maps.Keys(n.kids)) {
			walk(n.kids[name], prefix+"/"+name)
		}
	}
	walk(t.root, "")
	slices.Sort(out)
	return out
}
