package lang

import (
	"fmt"
	"strings"
)

// MaxDepth bounds the nesting of parentheses, not and transformers, so that
// hostile input cannot exhaust the stack.
const MaxDepth = 1000

// Parse parses a condition. The error, if any, is an *Error positioned at
// the offending token.
func Parse(src *Source) (Expr, error) {
	p := newParser(src)
	x, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.tok.Kind != EOF {
		return nil, p.unexpected("'and', 'or' or the end of the condition")
	}
	return x, nil
}

// ParseOperand parses a lone field, possibly inside transformers, such as
// an exception's field or an output placeholder.
func ParseOperand(src *Source) (Operand, error) {
	p := newParser(src)
	x, err := p.parseOperand(false)
	if err != nil {
		return nil, err
	}
	if p.tok.Kind != EOF {
		return nil, p.unexpected("the end of the field")
	}
	return x, nil
}

type parser struct {
	src    *Source
	lx     *Lexer
	tok    Token
	peeked *Token
	depth  int
}

func newParser(src *Source) *parser {
	p := &parser{src: src, lx: NewLexer(src)}
	p.advance()
	return p
}

func (p *parser) advance() {
	if p.peeked != nil {
		p.tok, p.peeked = *p.peeked, nil
		return
	}
	p.tok = p.lx.Next()
}

func (p *parser) peek() Token {
	if p.peeked == nil {
		t := p.lx.Next()
		p.peeked = &t
	}
	return *p.peeked
}

func (p *parser) pos(off int) Pos { return p.src.Pos(off) }

func (p *parser) errorf(off int, format string, args ...any) error {
	return &Error{Pos: p.pos(off), Msg: fmt.Sprintf(format, args...)}
}

// unexpected reports the current token where something else was expected;
// a lexer error is reported as itself.
func (p *parser) unexpected(want string) error {
	if p.tok.Kind == Illegal {
		return p.errorf(p.tok.Off, "%s", p.tok.Text)
	}
	return p.errorf(p.tok.Off, "expected %s, found %s", want, p.tok.describe())
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errorf(p.tok.Off, "condition nested more than %d levels deep", MaxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) parseOr() (Expr, error) {
	x, err := p.parseAnd()
	if err != nil || p.tok.Kind != Or {
		return x, err
	}
	terms := []Expr{x}
	for p.tok.Kind == Or {
		p.advance()
		y, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		terms = append(terms, y)
	}
	return &OrExpr{Terms: terms}, nil
}

func (p *parser) parseAnd() (Expr, error) {
	x, err := p.parseNot()
	if err != nil || p.tok.Kind != And {
		return x, err
	}
	terms := []Expr{x}
	for p.tok.Kind == And {
		p.advance()
		y, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		terms = append(terms, y)
	}
	return &AndExpr{Terms: terms}, nil
}

func (p *parser) parseNot() (Expr, error) {
	if p.tok.Kind != Not {
		return p.parseCheck()
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	pos := p.pos(p.tok.Off)
	p.advance()
	x, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	return &NotExpr{NotPos: pos, X: x}, nil
}

func (p *parser) parseCheck() (Expr, error) {
	switch p.tok.Kind {
	case LParen:
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		open := p.tok.Off
		p.advance()
		x, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.tok.Kind != RParen {
			if p.tok.Kind == EOF {
				return nil, p.errorf(open, "unclosed '(': missing ')'")
			}
			return nil, p.unexpected("')'")
		}
		p.advance()
		return x, nil
	case Ident:
		t := p.tok
		next := p.peek()
		switch {
		case isFunc(t.Text) && !t.HasArg && next.Kind == LParen:
			left, err := p.parseOperand(false)
			if err != nil {
				return nil, err
			}
			return p.parseCondition(left)
		case next.Kind == Op:
			left, err := p.field(t)
			if err != nil {
				return nil, err
			}
			return p.parseCondition(left)
		case !t.HasArg && !strings.Contains(t.Text, "."):
			p.advance()
			return &MacroRef{NamePos: p.pos(t.Off), Name: t.Text}, nil
		}
		p.advance()
		return nil, p.unexpected(fmt.Sprintf("a comparison operator after field %s", t.Text))
	}
	return nil, p.unexpected("a condition")
}

// field turns the current Ident token into a FieldRef and consumes it.
func (p *parser) field(t Token) (*FieldRef, error) {
	if !validFieldName(t.Text) {
		if !strings.Contains(t.Text, ".") {
			return nil, p.errorf(t.Off, "expected a field name such as proc.name, found %s", t.describe())
		}
		return nil, p.errorf(t.Off, "malformed field name %q", t.Text)
	}
	f := &FieldRef{NamePos: p.pos(t.Off), Name: t.Text}
	if t.HasArg {
		f.Arg = &Arg{Pos: p.pos(t.ArgOff), Text: t.Arg, Quoted: t.ArgQuoted}
	}
	p.advance()
	return f, nil
}

// validFieldName checks for dot-separated parts that start like names.
func validFieldName(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return false
	}
	for _, part := range parts {
		if part == "" || !isNameStart(part[0]) {
			return false
		}
	}
	return true
}

// parseOperand parses a field or a transformer call. On the right-hand
// side (rhs) a transformer may also wrap val(field).
func (p *parser) parseOperand(rhs bool) (Operand, error) {
	t := p.tok
	if t.Kind != Ident {
		return nil, p.unexpected("a field name")
	}
	if t.HasArg || !isFunc(t.Text) || p.peek().Kind != LParen {
		return p.field(t)
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	p.advance() // name
	open := p.tok.Off
	p.advance() // (
	var x Operand
	var err error
	if t.Text == valFunc {
		if !rhs {
			return nil, p.errorf(t.Off, "val() is only allowed on the right-hand side of a comparison")
		}
		if p.tok.Kind != Ident || isFunc(p.tok.Text) && p.peek().Kind == LParen {
			return nil, p.unexpected("a field name inside val()")
		}
		x, err = p.field(p.tok)
	} else {
		x, err = p.parseOperand(rhs)
	}
	if err != nil {
		return nil, err
	}
	if p.tok.Kind != RParen {
		if p.tok.Kind == EOF {
			return nil, p.errorf(open, "unclosed '(' after %s: missing ')'", t.Text)
		}
		return nil, p.unexpected(fmt.Sprintf("')' to close %s(", t.Text))
	}
	p.advance()
	if t.Text == valFunc {
		return x, nil
	}
	tr, _ := LookupTransformer(t.Text)
	return &Transform{NamePos: p.pos(t.Off), Func: tr, X: x}, nil
}

// parseCondition parses what follows the left operand of a comparison.
func (p *parser) parseCondition(left Operand) (Expr, error) {
	if p.tok.Kind != Op {
		return nil, p.unexpected("a comparison operator")
	}
	op, _ := LookupOperator(p.tok.Text)
	c := &CompareExpr{Left: left, Op: op, OpPos: p.pos(p.tok.Off)}
	opText := p.tok.Text
	p.advance()
	if op.IsUnary() {
		return c, nil
	}
	var err error
	switch t := p.tok; t.Kind {
	case LParen:
		if !op.IsList() {
			return nil, p.errorf(t.Off, "operator %s takes a single value, not a list", opText)
		}
		c.Right, err = p.parseList()
	case Word, String:
		lit := &Literal{ValuePos: p.pos(t.Off), Text: t.Text, Quoted: t.Kind == String}
		if op.IsList() {
			if t.Kind == String || !isIdentifier(t.Text) {
				return nil, p.errorf(t.Off, "operator %s expects a list such as (a, b) or a list name, found %s", opText, t.describe())
			}
			c.Right = &ListLit{LParen: lit.ValuePos, Items: []*Literal{lit}, Ref: true}
		} else {
			c.Right = lit
		}
		p.advance()
	case Ident:
		var x Operand
		x, err = p.parseOperand(true)
		if err == nil {
			c.Right = &FieldValue{ValPos: p.pos(t.Off), X: x}
		}
	default:
		return nil, p.unexpected("a value after " + opText)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (p *parser) parseList() (*ListLit, error) {
	l := &ListLit{LParen: p.pos(p.tok.Off)}
	open := p.tok.Off
	p.advance()
	if p.tok.Kind == RParen {
		p.advance()
		return l, nil
	}
	for {
		switch t := p.tok; t.Kind {
		case Word, String:
			l.Items = append(l.Items, &Literal{ValuePos: p.pos(t.Off), Text: t.Text, Quoted: t.Kind == String})
			p.advance()
		default:
			return nil, p.unexpected("a list item")
		}
		switch p.tok.Kind {
		case Comma:
			p.advance()
		case RParen:
			p.advance()
			return l, nil
		case EOF:
			return nil, p.errorf(open, "unclosed list: missing ')'")
		default:
			return nil, p.unexpected("',' or ')' in list")
		}
	}
}

// isIdentifier reports whether s is a macro or list name: a letter or '_'
// followed by letters, digits and '_'.
func isIdentifier(s string) bool {
	if s == "" || !isNameStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isNameByte(s[i]) || s[i] == '.' {
			return false
		}
	}
	return true
}

// IsIdentifier reports whether s is a valid macro name.
func IsIdentifier(s string) bool { return isIdentifier(s) }
