package compile

import "strings"

// prefixSet implements pmatch: a path matches when it is one of the
// prefixes or lies below one, on a '/' boundary, so /etc matches /etc and
// /etc/passwd but not /etcfoo.
type prefixSet struct {
	paths map[string]struct{}
	root  bool // "/" is a prefix: every absolute path matches
	// filter holds the shape of every path, so that most prefixes of a
	// path are rejected without hashing them.
	filter bits256
}

func newPrefixSet(items []string) *prefixSet {
	ps := &prefixSet{paths: make(map[string]struct{}, len(items))}
	for _, p := range items {
		if p == "" {
			continue
		}
		if strings.Trim(p, "/") == "" {
			ps.root = true
			continue
		}
		p = strings.TrimRight(p, "/")
		ps.paths[p] = struct{}{}
		ps.filter.set(shape(p))
	}
	return ps
}

func (ps *prefixSet) has(p string) bool {
	if !ps.filter.has(shape(p)) {
		return false
	}
	_, ok := ps.paths[p]
	return ok
}

// match looks up every '/'-bounded prefix of s: at most one map lookup per
// path component, and no allocation.
func (ps *prefixSet) match(s string) bool {
	if ps.root && strings.HasPrefix(s, "/") {
		return true
	}
	if ps.has(s) {
		return true
	}
	for i := 1; i < len(s); i++ {
		if s[i] == '/' && ps.has(s[:i]) {
			return true
		}
	}
	return false
}
