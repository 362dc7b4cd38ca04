package lang

// frame records what an open parenthesis started, so that the matching ')'
// restores the right scanning mode.
type frame uint8

const (
	frameGroup frame = iota // ( expr )
	frameCall               // tolower( ... ), val( ... )
	frameList               // in ( a, b )
)

// Lexer splits a condition into tokens. It is modal: after a comparison
// operator it scans values, where almost any character is part of a bare
// word, and elsewhere names and operators. The mode follows from the tokens
// already produced, so the lexer needs no help from the parser.
type Lexer struct {
	s     string
	pos   int
	value bool    // the next token is a value, or a value list is open
	stack []frame // open parentheses
	call  bool    // the last token was a function name: '(' opens a call
	err   *Token  // sticky error
}

// NewLexer returns a lexer over src.
func NewLexer(src *Source) *Lexer { return &Lexer{s: src.Text} }

// Lex returns every token of src up to and including the first EOF or Illegal token.
func Lex(src *Source) []Token {
	l := NewLexer(src)
	var toks []Token
	for {
		t := l.Next()
		toks = append(toks, t)
		if t.Kind == EOF || t.Kind == Illegal {
			return toks
		}
	}
}

func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// isBare reports whether c may appear in a bare value.
func isBare(c byte) bool {
	return !isBlank(c) && c != '(' && c != ')' && c != ',' && c != '=' && c != '"' && c != '\''
}

func isNameStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isNameByte(c byte) bool {
	return isNameStart(c) || c >= '0' && c <= '9' || c == '.'
}

// Next returns the next token. After an Illegal token it keeps returning it.
func (l *Lexer) Next() Token {
	if l.err != nil {
		return *l.err
	}
	for l.pos < len(l.s) && isBlank(l.s[l.pos]) {
		l.pos++
	}
	if l.pos >= len(l.s) {
		return Token{Kind: EOF, Off: l.pos, End: l.pos}
	}
	start := l.pos
	call := l.call
	l.call = false
	switch c := l.s[l.pos]; {
	case c == '(':
		l.pos++
		switch {
		case call:
			l.stack = append(l.stack, frameCall)
			l.value = false
		case l.value:
			l.stack = append(l.stack, frameList)
		default:
			l.stack = append(l.stack, frameGroup)
		}
		return l.tok(LParen, start)
	case c == ')':
		l.pos++
		if n := len(l.stack); n > 0 {
			l.stack = l.stack[:n-1]
		}
		l.value = l.inList()
		return l.tok(RParen, start)
	case c == ',':
		l.pos++
		l.value = l.inList()
		return l.tok(Comma, start)
	case c == '"' || c == '\'':
		return l.quoted(start)
	case c == '=':
		return l.symbolOp(start)
	case !l.value && (c == '<' || c == '>' || c == '!' && l.peek(1) == '='):
		// In a value these are ordinary bare characters.
		return l.symbolOp(start)
	case l.value:
		return l.bareValue(start)
	case isNameStart(c):
		return l.name(start)
	default:
		// Not a name: scan it as a bare word and let the parser say what
		// it expected there instead.
		return l.bareValue(start)
	}
}

func (l *Lexer) peek(n int) byte {
	if l.pos+n < len(l.s) {
		return l.s[l.pos+n]
	}
	return 0
}

func (l *Lexer) inList() bool {
	return len(l.stack) > 0 && l.stack[len(l.stack)-1] == frameList
}

func (l *Lexer) tok(k Kind, start int) Token {
	return Token{Kind: k, Text: l.s[start:l.pos], Off: start, End: l.pos}
}

func (l *Lexer) fail(off int, msg string) Token {
	t := Token{Kind: Illegal, Text: msg, Off: off, End: off}
	l.err = &t
	return t
}

func (l *Lexer) symbolOp(start int) Token {
	l.pos++
	if l.pos < len(l.s) && l.s[l.pos] == '=' {
		l.pos++
	}
	l.value = true
	return l.tok(Op, start)
}

// bareValue scans a run of bare-value bytes. A function name directly
// followed by '(' is a call such as val(proc.pname), not a value.
func (l *Lexer) bareValue(start int) Token {
	for l.pos < len(l.s) && isBare(l.s[l.pos]) {
		l.pos++
	}
	t := l.tok(Word, start)
	if isFunc(t.Text) && l.pos < len(l.s) && l.s[l.pos] == '(' {
		t.Kind = Ident
		l.call = true
		return t
	}
	l.value = l.inList()
	return t
}

// name scans a field, macro, keyword, word operator or function name.
func (l *Lexer) name(start int) Token {
	for l.pos < len(l.s) && isNameByte(l.s[l.pos]) {
		l.pos++
	}
	t := l.tok(Ident, start)
	if l.pos < len(l.s) && l.s[l.pos] == '[' {
		return l.fieldArg(t)
	}
	switch t.Text {
	case "and":
		t.Kind = And
		return t
	case "or":
		t.Kind = Or
		return t
	case "not":
		t.Kind = Not
		return t
	}
	if op, ok := LookupOperator(t.Text); ok {
		t.Kind = Op
		l.value = !op.IsUnary()
		return t
	}
	if isFunc(t.Text) {
		i := l.pos
		for i < len(l.s) && isBlank(l.s[i]) {
			i++
		}
		l.call = i < len(l.s) && l.s[i] == '('
	}
	return t
}

// fieldArg scans the [arg] that follows a field name into t. The argument is
// bare (no blanks, brackets or quotes) or a quoted string.
func (l *Lexer) fieldArg(t Token) Token {
	open := l.pos
	l.pos++ // '['
	t.HasArg = true
	t.ArgOff = l.pos
	if l.pos < len(l.s) && (l.s[l.pos] == '"' || l.s[l.pos] == '\'') {
		s, ok := l.unquote()
		if !ok {
			return l.fail(t.ArgOff, "unterminated quoted string")
		}
		t.Arg, t.ArgQuoted = s, true
	} else {
		for l.pos < len(l.s) && !isBlank(l.s[l.pos]) && !isBracketOrQuote(l.s[l.pos]) {
			l.pos++
		}
		t.Arg = l.s[t.ArgOff:l.pos]
		if t.Arg == "" && (l.pos >= len(l.s) || l.s[l.pos] == ']') {
			return l.fail(open, "empty field argument")
		}
	}
	if l.pos >= len(l.s) {
		return l.fail(open, "unterminated field argument: missing ']'")
	}
	if l.s[l.pos] != ']' {
		return l.fail(l.pos, "unexpected "+quoteByte(l.s[l.pos])+" in field argument")
	}
	l.pos++
	t.End = l.pos
	return t
}

func isBracketOrQuote(c byte) bool {
	return c == '[' || c == ']' || c == '"' || c == '\''
}

func (l *Lexer) quoted(start int) Token {
	s, ok := l.unquote()
	if !ok {
		return l.fail(start, "unterminated quoted string")
	}
	t := Token{Kind: String, Text: s, Off: start, End: l.pos}
	l.value = l.inList()
	return t
}

// unquote scans the quoted string at l.pos and returns it unescaped.
// Backslash escapes the quote, a backslash and \n \t \r \b \f; any other
// backslash is kept as written, so regular expressions need no doubling.
func (l *Lexer) unquote() (string, bool) {
	q := l.s[l.pos]
	l.pos++
	var b []byte
	for l.pos < len(l.s) {
		c := l.s[l.pos]
		switch {
		case c == q:
			l.pos++
			return string(b), true
		case c == '\\' && l.pos+1 < len(l.s):
			b = appendUnescaped(b, l.s[l.pos+1])
			l.pos += 2
		default:
			b = append(b, c)
			l.pos++
		}
	}
	return "", false
}

func appendUnescaped(b []byte, c byte) []byte {
	switch c {
	case '\\', '"', '\'':
		return append(b, c)
	case 'n':
		return append(b, '\n')
	case 't':
		return append(b, '\t')
	case 'r':
		return append(b, '\r')
	case 'b':
		return append(b, '\b')
	case 'f':
		return append(b, '\f')
	}
	return append(b, '\\', c)
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(c) + "'"
	}
	const hex = "0123456789abcdef"
	return "byte 0x" + string(hex[c>>4]) + string(hex[c&15])
}

// Unquote returns the value of s when s is exactly one quoted string, as
// written in a condition. Falco splices list items into conditions as
// text, so an item written '"10.0.0.0/8"' is a quoted value there.
func Unquote(s string) (string, bool) {
	if s == "" || s[0] != '"' && s[0] != '\'' {
		return "", false
	}
	l := &Lexer{s: s}
	v, ok := l.unquote()
	return v, ok && l.pos == len(s)
}
