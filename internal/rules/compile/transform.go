package compile

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// operand resolves a field and applies any transformers around it.
func (c *compiler[C]) operand(o lang.Operand) (Field[C], error) {
	switch x := o.(type) {
	case *lang.FieldRef:
		f, err := c.resolver.Lookup(x.Name, x.Arg)
		if err != nil {
			return Field[C]{}, &FieldError{Pos: x.NamePos, Name: x.Name, Err: err}
		}
		if err := f.check(x.Name); err != nil {
			return Field[C]{}, &FieldError{Pos: x.NamePos, Name: x.Name, Err: err}
		}
		return f, nil
	case *lang.Transform:
		inner, err := c.operand(x.X)
		if err != nil {
			return Field[C]{}, err
		}
		f, ok := transform(x.Func, inner)
		if !ok {
			return Field[C]{}, &lang.Error{Pos: x.NamePos, Msg: fmt.Sprintf("%s() cannot be applied to %s, a field of type %s", x.Func, lang.FormatOperand(x.X), inner.Type)}
		}
		return f, nil
	}
	return Field[C]{}, fmt.Errorf("unexpected operand %T", o)
}

// transform wraps a field's getter. Transformers that build new strings
// allocate per evaluation; that is their price.
func transform[C any](t lang.Transformer, f Field[C]) (Field[C], bool) {
	if t == lang.Len {
		var n Field[C]
		switch f.Type {
		case TypeString, TypeBytes:
			get := f.Str
			n = UintField(func(c C) (uint64, bool) { s, ok := get(c); return uint64(len(s)), ok })
		case TypeStrList:
			get := f.List
			n = UintField(func(c C) (uint64, bool) { l, ok := get(c); return uint64(len(l)), ok })
		default:
			return f, false
		}
		n.Any = f.Any
		return n, true
	}
	var fn func(string) (string, bool)
	switch t {
	case lang.ToLower:
		fn = func(s string) (string, bool) { return strings.ToLower(s), true }
	case lang.ToUpper:
		fn = func(s string) (string, bool) { return strings.ToUpper(s), true }
	case lang.Basename:
		fn = func(s string) (string, bool) { return s[strings.LastIndexByte(s, '/')+1:], true }
	case lang.B64:
		fn = decodeBase64
	default:
		return f, false
	}
	switch f.Type {
	case TypeString, TypeBytes:
		get := f.Str
		f.Str = func(c C) (string, bool) {
			s, ok := get(c)
			if !ok {
				return "", false
			}
			return fn(s)
		}
		return f, true
	case TypeStrList:
		get := f.List
		f.List = func(c C) ([]string, bool) {
			l, ok := get(c)
			if !ok {
				return nil, false
			}
			out := make([]string, 0, len(l))
			for _, s := range l {
				if v, ok := fn(s); ok {
					out = append(out, v)
				}
			}
			return out, true
		}
		return f, true
	}
	return f, false
}

// decodeBase64 accepts padded and unpadded standard encoding; a value
// that is not base64 has no decoded value, so comparisons on it fail.
func decodeBase64(s string) (string, bool) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return string(b), true
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	return string(b), err == nil
}
