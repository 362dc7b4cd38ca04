package compile

import (
	"encoding/hex"
	"regexp"
	"strings"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

func compareString[C any](get func(C) (string, bool), x *lang.CompareExpr, vals []*lang.Literal) (func(C) bool, error) {
	switch x.Op {
	case lang.OpIn, lang.OpIntersects:
		set := newStringSet(texts(vals))
		return func(c C) bool { s, ok := get(c); return ok && set.has(s) }, nil
	case lang.OpPMatch:
		ps := newPrefixSet(texts(vals))
		return func(c C) bool { s, ok := get(c); return ok && ps.match(s) }, nil
	}
	v := vals[0].Text
	switch x.Op {
	case lang.OpEq:
		return func(c C) bool { s, ok := get(c); return ok && s == v }, nil
	case lang.OpNe:
		return func(c C) bool { s, ok := get(c); return ok && s != v }, nil
	case lang.OpLt:
		return func(c C) bool { s, ok := get(c); return ok && s < v }, nil
	case lang.OpLe:
		return func(c C) bool { s, ok := get(c); return ok && s <= v }, nil
	case lang.OpGt:
		return func(c C) bool { s, ok := get(c); return ok && s > v }, nil
	case lang.OpGe:
		return func(c C) bool { s, ok := get(c); return ok && s >= v }, nil
	case lang.OpContains:
		return func(c C) bool { s, ok := get(c); return ok && strings.Contains(s, v) }, nil
	case lang.OpIContains:
		lower := toLowerASCII(v)
		return func(c C) bool { s, ok := get(c); return ok && containsFold(s, lower) }, nil
	case lang.OpStartsWith:
		return func(c C) bool { s, ok := get(c); return ok && strings.HasPrefix(s, v) }, nil
	case lang.OpEndsWith:
		return func(c C) bool { s, ok := get(c); return ok && strings.HasSuffix(s, v) }, nil
	case lang.OpBContains, lang.OpBStartsWith:
		raw, err := hex.DecodeString(v)
		if err != nil {
			return nil, valueError(vals[0], "%s needs bytes written in hex, such as 7F454C46; %q is not", x.Op, v)
		}
		b := string(raw)
		if x.Op == lang.OpBContains {
			return func(c C) bool { s, ok := get(c); return ok && strings.Contains(s, b) }, nil
		}
		return func(c C) bool { s, ok := get(c); return ok && strings.HasPrefix(s, b) }, nil
	case lang.OpGlob, lang.OpIGlob:
		g := compileGlob(v, x.Op == lang.OpIGlob)
		return func(c C) bool { s, ok := get(c); return ok && g.match(s) }, nil
	case lang.OpRegex:
		// Falco anchors regexes at both ends (RE2 ANCHOR_BOTH).
		re, err := regexp.Compile(`^(?:` + v + `)$`)
		if err != nil {
			return nil, valueError(vals[0], "invalid regular expression %q: %v", v, err)
		}
		return func(c C) bool { s, ok := get(c); return ok && re.MatchString(s) }, nil
	}
	return nil, unsupported(x, TypeString)
}
