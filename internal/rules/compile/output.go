package compile

import (
	"errors"
	"strconv"

	"github.com/vigilsec/vigil/internal/rules/lang"
)

// NA is what a placeholder renders as when the event has no value for it,
// as in Falco.
const NA = "<NA>"

// Output is a compiled output template.
type Output[C any] struct {
	Text  string // the template as written
	parts []outputPart[C]
}

type outputPart[C any] struct {
	lit      string
	name     string // the placeholder as written, without %
	field    Field[C]
	isLit    bool
	resolved bool // false: the field is unknown and renders NA
}

// Placeholder is one field an output template uses.
type Placeholder[C any] struct {
	Name     string   // as written, without the %: proc.aname[2], tolower(proc.name)
	Field    Field[C] // the resolved field, transformers applied
	Resolved bool     // false: the resolver does not know it and it renders NA
}

// Placeholders returns the fields the template uses, in order, each once.
// Alert outputs use it to report the values behind the text with their
// types.
func (o *Output[C]) Placeholders() []Placeholder[C] {
	var out []Placeholder[C]
	seen := map[string]bool{}
	for _, p := range o.parts {
		if p.isLit || seen[p.name] {
			continue
		}
		seen[p.name] = true
		out = append(out, Placeholder[C]{Name: p.name, Field: p.field, Resolved: p.resolved})
	}
	return out
}

// OutputTemplate parses an output template and resolves its placeholders.
// A malformed template is an error. Placeholders naming fields the
// resolver cannot provide are returned as FieldErrors and render as NA;
// the caller decides whether that is fatal.
func OutputTemplate[C any](src *lang.Source, r FieldResolver[C]) (*Output[C], []*FieldError, error) {
	tpl, err := lang.ParseTemplate(src)
	if err != nil {
		return nil, nil, err
	}
	c := &compiler[C]{resolver: r}
	o := &Output[C]{Text: src.Text}
	var bad []*FieldError
	for _, p := range tpl.Parts {
		if p.Field == nil {
			o.parts = append(o.parts, outputPart[C]{lit: p.Text, isLit: true})
			continue
		}
		name := lang.FormatOperand(p.Field)
		f, err := c.operand(p.Field)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				fe = &FieldError{Pos: p.Field.Pos(), Name: name, Err: err}
			}
			bad = append(bad, fe)
			o.parts = append(o.parts, outputPart[C]{name: name})
			continue
		}
		o.parts = append(o.parts, outputPart[C]{name: name, field: f, resolved: true})
	}
	return o, bad, nil
}

// Render appends the output for event c to dst. It allocates only if dst
// must grow, or for transformers.
func (o *Output[C]) Render(c C, dst []byte) []byte {
	for _, p := range o.parts {
		switch {
		case p.isLit:
			dst = append(dst, p.lit...)
		case !p.resolved:
			dst = append(dst, NA...)
		default:
			dst = appendField(dst, p.field, c)
		}
	}
	return dst
}

func appendField[C any](dst []byte, f Field[C], c C) []byte {
	switch f.Type {
	case TypeString, TypeBytes:
		if s, ok := f.Str(c); ok {
			return append(dst, s...)
		}
	case TypeUint:
		if n, ok := f.Uint(c); ok {
			return strconv.AppendUint(dst, n, 10)
		}
	case TypeInt:
		if n, ok := f.Int(c); ok {
			return strconv.AppendInt(dst, n, 10)
		}
	case TypeBool:
		if b, ok := f.Bool(c); ok {
			return strconv.AppendBool(dst, b)
		}
	case TypeIPAddr, TypeIPNet:
		if a, ok := f.Addr(c); ok {
			return a.AppendTo(dst)
		}
	case TypeStrList:
		if l, ok := f.List(c); ok {
			for i, s := range l {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = append(dst, s...)
			}
			return dst
		}
	}
	return append(dst, NA...)
}
