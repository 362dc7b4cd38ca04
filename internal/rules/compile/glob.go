package compile

// glob matches like fnmatch(3) without flags, as Falco's glob operator
// does: '*' matches any run of bytes, '/' included; '?' any one byte;
// [a-z], [!x] and [^x] are byte classes; a backslash quotes the next byte.
// The pattern is compiled once; matching allocates nothing.
type glob struct {
	elems []globElem
	fold  bool // iglob: ASCII case-insensitive
}

type globKind uint8

const (
	globByte  globKind = iota
	globAny            // ?
	globStar           // *
	globClass          // [...]
)

type globElem struct {
	kind  globKind
	b     byte
	class *[4]uint64 // bitmap over bytes, for globClass
}

func (e globElem) matches(c byte, fold bool) bool {
	switch e.kind {
	case globAny:
		return true
	case globByte:
		if fold {
			return lowerASCII(c) == e.b
		}
		return c == e.b
	case globClass:
		if fold && e.class[lowerASCII(c)>>6]&(1<<(lowerASCII(c)&63)) != 0 {
			return true
		}
		return e.class[c>>6]&(1<<(c&63)) != 0
	}
	return false
}

func compileGlob(pattern string, fold bool) *glob {
	g := &glob{fold: fold}
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch c {
		case '*':
			if n := len(g.elems); n == 0 || g.elems[n-1].kind != globStar {
				g.elems = append(g.elems, globElem{kind: globStar})
			}
		case '?':
			g.elems = append(g.elems, globElem{kind: globAny})
		case '[':
			if class, end, ok := parseClass(pattern, i, fold); ok {
				g.elems = append(g.elems, globElem{kind: globClass, class: class})
				i = end
				continue
			}
			g.elems = append(g.elems, g.byteElem('['))
		case '\\':
			if i+1 < len(pattern) {
				i++
				c = pattern[i]
			}
			g.elems = append(g.elems, g.byteElem(c))
		default:
			g.elems = append(g.elems, g.byteElem(c))
		}
	}
	return g
}

func (g *glob) byteElem(c byte) globElem {
	if g.fold {
		c = lowerASCII(c)
	}
	return globElem{kind: globByte, b: c}
}

// parseClass parses the class starting at pattern[i] == '['. An
// unterminated class is not a class: '[' then stands for itself.
func parseClass(pattern string, i int, fold bool) (*[4]uint64, int, bool) {
	var set [4]uint64
	j := i + 1
	negate := j < len(pattern) && (pattern[j] == '!' || pattern[j] == '^')
	if negate {
		j++
	}
	first := true
	for ; j < len(pattern); j++ {
		c := pattern[j]
		if c == ']' && !first {
			if negate {
				for k := range set {
					set[k] = ^set[k]
				}
			}
			return &set, j, true
		}
		first = false
		if c == '\\' && j+1 < len(pattern) {
			j++
			c = pattern[j]
		}
		lo, hi := c, c
		if j+2 < len(pattern) && pattern[j+1] == '-' && pattern[j+2] != ']' {
			hi = pattern[j+2]
			j += 2
		}
		for b := int(lo); b <= int(hi); b++ {
			add := byte(b)
			if fold {
				add = lowerASCII(add)
			}
			set[add>>6] |= 1 << (add & 63)
		}
	}
	return nil, 0, false
}

// match reports whether s matches the whole pattern. It backtracks only to
// the most recent star, which is enough for globs and keeps the worst case
// at len(s)*len(pattern).
func (g *glob) match(s string) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		switch {
		case p < len(g.elems) && g.elems[p].kind == globStar:
			starP, starI = p, i
			p++
		case p < len(g.elems) && g.elems[p].matches(s[i], g.fold):
			p++
			i++
		case starP >= 0:
			starI++
			p, i = starP+1, starI
		default:
			return false
		}
	}
	for p < len(g.elems) && g.elems[p].kind == globStar {
		p++
	}
	return p == len(g.elems)
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// containsFold reports whether s contains needle, ignoring ASCII case as
// Falco's icontains does; needle must already be lower case.
func containsFold(s, needle string) bool {
	if needle == "" {
		return true
	}
	first := needle[0]
	for i := 0; i+len(needle) <= len(s); i++ {
		if lowerASCII(s[i]) != first {
			continue
		}
		j := 1
		for j < len(needle) && lowerASCII(s[i+j]) == needle[j] {
			j++
		}
		if j == len(needle) {
			return true
		}
	}
	return false
}

// toLowerASCII lower-cases ASCII letters; other bytes are kept.
func toLowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lowerASCII(c)
	}
	return string(b)
}
