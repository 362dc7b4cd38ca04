package compile

import (
	"fmt"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// compare compiles one comparison. A left field that stands for several
// values (Field.Any) makes it hold when it holds for any of them.
func (c *compiler[C]) compare(x *lang.CompareExpr) (func(C) bool, error) {
	left, err := c.operand(x.Left)
	if err != nil {
		return nil, err
	}
	f, err := c.compareField(left, x)
	if err != nil || left.Any == nil {
		return f, err
	}
	each := left.Any
	return func(ctx C) bool { return each(ctx, f) }, nil
}

// compareField compiles a comparison whose left side is resolved.
func (c *compiler[C]) compareField(left Field[C], x *lang.CompareExpr) (func(C) bool, error) {
	if x.Op == lang.OpExists {
		return left.present(), nil
	}
	switch right := x.Right.(type) {
	case *lang.FieldValue:
		rf, err := c.operand(right.X)
		if err != nil {
			return nil, err
		}
		return compareFields(left, rf, x)
	case *lang.Literal:
		return compareValue(left, x, []*lang.Literal{right})
	case *lang.ListLit:
		return compareValue(left, x, right.Items)
	}
	return nil, opError(x, "has no value to compare with")
}

// compareValue dispatches on the left side's type. vals is one literal for
// scalar operators and the list's items for list operators.
func compareValue[C any](f Field[C], x *lang.CompareExpr, vals []*lang.Literal) (func(C) bool, error) {
	switch f.Type {
	case TypeString, TypeBytes:
		return compareString(f.Str, x, vals)
	case TypeUint:
		return compareUint(f.Uint, x, vals)
	case TypeInt:
		return compareInt(f.Int, x, vals)
	case TypeBool:
		return compareBool(f.Bool, x, vals)
	case TypeIPAddr, TypeIPNet:
		return compareAddr(f.Addr, x, vals)
	case TypeStrList:
		return compareList(f.List, x, vals)
	}
	return nil, opError(x, "has a field of unknown type")
}

// opError positions a message at the operator of x.
func opError(x *lang.CompareExpr, format string, args ...any) error {
	return &lang.Error{Pos: x.OpPos, Msg: fmt.Sprintf("%s %s ", lang.FormatOperand(x.Left), x.Op) + fmt.Sprintf(format, args...)}
}

// unsupported reports an operator that does not apply to a field's type.
func unsupported(x *lang.CompareExpr, t FieldType) error {
	return &lang.Error{Pos: x.OpPos, Msg: fmt.Sprintf("operator %s does not apply to %s, a field of type %s", x.Op, lang.FormatOperand(x.Left), t)}
}

// valueError positions a message at a value.
func valueError(l *lang.Literal, format string, args ...any) error {
	return &lang.Error{Pos: l.ValuePos, Msg: fmt.Sprintf(format, args...)}
}

// texts returns the literals' text.
func texts(vals []*lang.Literal) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = v.Text
	}
	return out
}
