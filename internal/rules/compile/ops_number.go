package compile

import (
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// parseUint reads a decimal number, or hexadecimal with 0x, as Falco
// does; a leading zero does not make it octal.
func parseUint(s string) (uint64, bool) {
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		n, err := strconv.ParseUint(h, 16, 64)
		return n, err == nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

func parseInt(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	u, ok := parseUint(strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+"))
	if !ok || u > 1<<63 || !neg && u == 1<<63 {
		return 0, false
	}
	if neg {
		return -int64(u), true
	}
	return int64(u), true
}

func compareUint[C any](get func(C) (uint64, bool), x *lang.CompareExpr, vals []*lang.Literal) (func(C) bool, error) {
	if !numericOp(x.Op) {
		return nil, unsupported(x, TypeUint)
	}
	nums := make([]uint64, len(vals))
	for i, l := range vals {
		n, ok := parseUint(l.Text)
		if !ok {
			return nil, valueError(l, "%q is not an unsigned number, as %s needs", l.Text, lang.FormatOperand(x.Left))
		}
		nums[i] = n
	}
	return compareOrdered(get, x, nums), nil
}

func compareInt[C any](get func(C) (int64, bool), x *lang.CompareExpr, vals []*lang.Literal) (func(C) bool, error) {
	if !numericOp(x.Op) {
		return nil, unsupported(x, TypeInt)
	}
	nums := make([]int64, len(vals))
	for i, l := range vals {
		n, ok := parseInt(l.Text)
		if !ok {
			return nil, valueError(l, "%q is not an integer, as %s needs", l.Text, lang.FormatOperand(x.Left))
		}
		nums[i] = n
	}
	return compareOrdered(get, x, nums), nil
}

func numericOp(op lang.Operator) bool {
	switch op {
	case lang.OpEq, lang.OpNe, lang.OpLt, lang.OpLe, lang.OpGt, lang.OpGe, lang.OpIn, lang.OpIntersects:
		return true
	}
	return false
}

// compareOrdered builds numeric comparisons, shared by both integer types.
// The operator was checked by numericOp.
func compareOrdered[C any, N uint64 | int64](get func(C) (N, bool), x *lang.CompareExpr, nums []N) func(C) bool {
	if x.Op == lang.OpIn || x.Op == lang.OpIntersects {
		set := newValueSet(nums)
		return func(c C) bool { n, ok := get(c); return ok && set.has(n) }
	}
	v := nums[0]
	switch x.Op {
	case lang.OpEq:
		return func(c C) bool { n, ok := get(c); return ok && n == v }
	case lang.OpNe:
		return func(c C) bool { n, ok := get(c); return ok && n != v }
	case lang.OpLt:
		return func(c C) bool { n, ok := get(c); return ok && n < v }
	case lang.OpLe:
		return func(c C) bool { n, ok := get(c); return ok && n <= v }
	case lang.OpGt:
		return func(c C) bool { n, ok := get(c); return ok && n > v }
	}
	// OpGe, the only one left.
	return func(c C) bool { n, ok := get(c); return ok && n >= v }
}
