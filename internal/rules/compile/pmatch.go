package compile

import "strings"

// prefixSet implements pmatch: a path matches when it is one of the
// prefixes or lies below one, on a '/' boundary, so /etc matches /etc and
// /etc/passwd but not /etcfoo.
type prefixSet struct {
	paths map[string]struct{}
	root  bool // "/" is a prefix: every absolute path matches
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
		ps.paths[strings.TrimRight(p, "/")] = struct{}{}
	}
	return ps
}

// match looks up every '/'-bounded prefix of s: at most one map lookup per
// path component, and no allocation.
func (ps *prefixSet) match(s string) bool {
	if ps.root && strings.HasPrefix(s, "/") {
		return true
	}
	if _, ok := ps.paths[s]; ok {
		return true
	}
	for i := 1; i < len(s); i++ {
		if s[i] == '/' {
			if _, ok := ps.paths[s[:i]]; ok {
				return true
			}
		}
	}
	return false
}
