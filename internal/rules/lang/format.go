package lang

import "strings"

// Format prints e as canonical condition text: single spaces, operators
// spelled one way, parentheses only where precedence needs them. Parsing the
// result yields an equivalent AST, which the fuzz tests check. An and
// inside an or is parenthesized too, for the reader's sake.
func Format(e Expr) string {
	var b strings.Builder
	formatExpr(&b, e, precOr)
	return b.String()
}

// FormatOperand prints a field or transformer expression.
func FormatOperand(o Operand) string {
	var b strings.Builder
	formatOperand(&b, o)
	return b.String()
}

// Binding strength, loosest first.
const (
	precOr = iota
	precAnd
	precNot
)

func formatExpr(b *strings.Builder, e Expr, prec int) {
	switch x := e.(type) {
	case *OrExpr:
		formatTerms(b, x.Terms, " or ", precOr, prec)
	case *AndExpr:
		formatTerms(b, x.Terms, " and ", precAnd, prec)
	case *NotExpr:
		b.WriteString("not ")
		formatExpr(b, x.X, precNot)
	case *MacroRef:
		b.WriteString(x.Name)
	case *CompareExpr:
		formatOperand(b, x.Left)
		b.WriteByte(' ')
		b.WriteString(x.Op.String())
		if x.Right != nil {
			b.WriteByte(' ')
			formatValue(b, x.Right)
		}
	default:
		b.WriteString("<nil>")
	}
}

func formatTerms(b *strings.Builder, terms []Expr, sep string, own, outer int) {
	paren := own < outer
	if paren {
		b.WriteByte('(')
	}
	for i, t := range terms {
		if i > 0 {
			b.WriteString(sep)
		}
		// A term as loose as its parent needs no parentheses: and and or
		// are associative. An and inside an or needs none either, but
		// reads more easily with them.
		if _, isAnd := t.(*AndExpr); isAnd && own == precOr {
			formatTerms(b, t.(*AndExpr).Terms, " and ", precAnd, precNot)
			continue
		}
		formatExpr(b, t, own)
	}
	if paren {
		b.WriteByte(')')
	}
}

func formatOperand(b *strings.Builder, o Operand) {
	switch x := o.(type) {
	case *FieldRef:
		b.WriteString(x.Name)
		if x.Arg != nil {
			b.WriteByte('[')
			if x.Arg.Quoted || !isBareArg(x.Arg.Text) {
				writeQuoted(b, x.Arg.Text)
			} else {
				b.WriteString(x.Arg.Text)
			}
			b.WriteByte(']')
		}
	case *Transform:
		b.WriteString(x.Func.String())
		b.WriteByte('(')
		formatOperand(b, x.X)
		b.WriteByte(')')
	default:
		b.WriteString("<nil>")
	}
}

func formatValue(b *strings.Builder, v Value) {
	switch x := v.(type) {
	case *Literal:
		formatLiteral(b, x)
	case *ListLit:
		if x.Ref && len(x.Items) == 1 {
			formatLiteral(b, x.Items[0])
			return
		}
		b.WriteByte('(')
		for i, it := range x.Items {
			if i > 0 {
				b.WriteString(", ")
			}
			formatLiteral(b, it)
		}
		b.WriteByte(')')
	case *FieldValue:
		if _, ok := x.X.(*FieldRef); ok {
			b.WriteString("val(")
			formatOperand(b, x.X)
			b.WriteByte(')')
			return
		}
		formatRHSOperand(b, x.X)
	default:
		b.WriteString("<nil>")
	}
}

// formatRHSOperand writes transformers on the right-hand side with the
// innermost field wrapped in val(), so the text parses back the same.
func formatRHSOperand(b *strings.Builder, o Operand) {
	if t, ok := o.(*Transform); ok {
		b.WriteString(t.Func.String())
		b.WriteByte('(')
		formatRHSOperand(b, t.X)
		b.WriteByte(')')
		return
	}
	b.WriteString("val(")
	formatOperand(b, o)
	b.WriteByte(')')
}

func formatLiteral(b *strings.Builder, l *Literal) {
	if l.Quoted || !IsBareValue(l.Text) {
		writeQuoted(b, l.Text)
		return
	}
	b.WriteString(l.Text)
}

// IsBareValue reports whether s can be written without quotes as a value.
func IsBareValue(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isBare(s[i]) {
			return false
		}
	}
	// A function name would be read back as a call if followed by '('.
	return !isFunc(s)
}

func isBareArg(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if isBlank(s[i]) || isBracketOrQuote(s[i]) {
			return false
		}
	}
	return true
}

// writeQuoted writes s in double quotes, escaping what the lexer unescapes.
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}
