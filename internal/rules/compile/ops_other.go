package compile

import (
	"net/netip"
	"strings"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

func compareBool[C any](get func(C) (bool, bool), x *lang.CompareExpr, vals []*lang.Literal) (func(C) bool, error) {
	switch x.Op {
	case lang.OpEq, lang.OpNe, lang.OpIn, lang.OpIntersects:
	default:
		return nil, unsupported(x, TypeBool)
	}
	var want [2]bool // which of false, true are accepted
	for _, l := range vals {
		switch strings.ToLower(l.Text) {
		case "true", "1":
			want[1] = true
		case "false", "0":
			want[0] = true
		default:
			return nil, valueError(l, "%q is not true or false, as %s needs", l.Text, lang.FormatOperand(x.Left))
		}
	}
	if x.Op == lang.OpNe {
		want[0], want[1] = !want[0], !want[1]
	}
	return func(c C) bool {
		b, ok := get(c)
		if !ok {
			return false
		}
		if b {
			return want[1]
		}
		return want[0]
	}, nil
}

// addrMatcher matches addresses against single addresses and networks.
type addrMatcher struct {
	addrs *valueSet[netip.Addr]
	nets  []netip.Prefix
}

func (m *addrMatcher) match(a netip.Addr) bool {
	a = a.Unmap()
	if m.addrs.has(a) {
		return true
	}
	for _, n := range m.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

func compareAddr[C any](get func(C) (netip.Addr, bool), x *lang.CompareExpr, vals []*lang.Literal) (func(C) bool, error) {
	switch x.Op {
	case lang.OpEq, lang.OpNe, lang.OpIn, lang.OpIntersects:
	default:
		return nil, unsupported(x, TypeIPAddr)
	}
	var addrs []netip.Addr
	m := &addrMatcher{}
	for _, l := range vals {
		if strings.Contains(l.Text, "/") {
			p, err := netip.ParsePrefix(l.Text)
			if err != nil {
				return nil, valueError(l, "%q is not a network such as 10.0.0.0/8", l.Text)
			}
			m.nets = append(m.nets, netip.PrefixFrom(p.Addr().Unmap(), min(p.Bits(), p.Addr().Unmap().BitLen())).Masked())
			continue
		}
		a, err := netip.ParseAddr(l.Text)
		if err != nil {
			return nil, valueError(l, "%q is not an IP address, as %s needs", l.Text, lang.FormatOperand(x.Left))
		}
		addrs = append(addrs, a.Unmap())
	}
	m.addrs = newValueSet(addrs)
	if x.Op == lang.OpNe {
		return func(c C) bool { a, ok := get(c); return ok && !m.match(a) }, nil
	}
	return func(c C) bool { a, ok := get(c); return ok && m.match(a) }, nil
}

// compareList applies list operators to a list field, as Falco does: in
// holds when every element is in the set, intersects when any is.
func compareList[C any](get func(C) ([]string, bool), x *lang.CompareExpr, vals []*lang.Literal) (func(C) bool, error) {
	set := newStringSet(texts(vals))
	switch x.Op {
	case lang.OpIn:
		return func(c C) bool {
			l, ok := get(c)
			if !ok || len(l) == 0 {
				return false
			}
			for _, s := range l {
				if !set.has(s) {
					return false
				}
			}
			return true
		}, nil
	case lang.OpIntersects:
		return func(c C) bool {
			l, ok := get(c)
			if !ok {
				return false
			}
			for _, s := range l {
				if set.has(s) {
					return true
				}
			}
			return false
		}, nil
	}
	return nil, unsupported(x, TypeStrList)
}
