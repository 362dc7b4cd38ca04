package enforce

import (
	"path"
	"sort"
	"strings"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// openPaths returns the files and directories a block rule on open must
// watch: every path the condition can match must be named literally (fd.name
// = or in, fd.directory = or in, fd.name startswith a directory), because
// fanotify marks files, not patterns. The rule's whole condition is still
// evaluated on each access; the marks only decide which accesses are asked
// about.
func openPaths(e lang.Expr) ([]string, error) {
	dnf, err := toDNF(e, false)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, conj := range dnf {
		var found []string
		relevant := true
		for _, l := range conj {
			c := l.cmp
			name := fieldName(c)
			if name == "evt.type" {
				types, err := typeTest(l)
				if err != nil {
					return nil, err
				}
				relevant = relevant && anyOf(types, openTypes)
				continue
			}
			if l.neg || found != nil {
				continue // narrowing tests are evaluated at decision time
			}
			vals, ok := values(c)
			if !ok {
				continue
			}
			switch {
			case (name == "fd.name" || name == "fd.directory") && (c.Op == lang.OpEq || c.Op == lang.OpIn):
				found = vals
			case name == "fd.name" && c.Op == lang.OpStartsWith && len(vals) == 1 && strings.HasSuffix(vals[0], "/"):
				found = vals
			}
		}
		if !relevant {
			continue
		}
		if found == nil {
			return nil, notKernelf(conj[0].cmp.Pos(), "the condition does not name the files it protects (fd.name = or in, fd.directory, or fd.name startswith a directory)")
		}
		for _, p := range found {
			if !strings.HasPrefix(p, "/") {
				return nil, notKernelf(conj[0].cmp.Pos(), "%q is not an absolute path", p)
			}
			set[path.Clean(p)] = true
		}
	}
	if len(set) == 0 {
		return nil, notKernelf(e.Pos(), "the condition never matches an open")
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}
