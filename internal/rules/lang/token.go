package lang

import "strconv"

// Kind is the lexical class of a token.
type Kind uint8

// Token kinds.
const (
	EOF     Kind = iota
	Illegal      // a lexing error; Text holds the message and lexing stops
	LParen       // (
	RParen       // )
	Comma        // ,
	And          // and
	Or           // or
	Not          // not
	Ident        // a field, macro or function name, possibly with an argument
	Op           // a comparison operator, symbolic or a word like contains
	Word         // a bare value such as /etc/shadow or 8080
	String       // a quoted value; Text holds it unescaped
)

var kindNames = [...]string{
	EOF: "end of condition", Illegal: "error", LParen: "'('", RParen: "')'",
	Comma: "','", And: "'and'", Or: "'or'", Not: "'not'", Ident: "name",
	Op: "operator", Word: "value", String: "quoted string",
}

// String names the kind for error messages.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "token(" + strconv.Itoa(int(k)) + ")"
}

// Token is one lexeme of a condition. Offsets index Source.Text.
type Token struct {
	Kind Kind
	Text string
	Off  int // first byte
	End  int // one past the last byte

	// A field written name[arg] is one Ident token with its argument here.
	HasArg    bool
	Arg       string
	ArgQuoted bool
	ArgOff    int
}

// describe renders the token for "found X" in error messages.
func (t Token) describe() string {
	switch t.Kind {
	case EOF, LParen, RParen, Comma, And, Or, Not:
		return t.Kind.String()
	case String:
		return strconv.Quote(t.Text)
	}
	return "'" + t.Text + "'"
}

// Operator is a comparison operator.
type Operator uint8

// Comparison operators. = and == are the same operator.
const (
	OpInvalid Operator = iota
	OpEq
	OpNe
	OpLt
	OpLe
	OpGt
	OpGe
	OpContains
	OpIContains
	OpBContains
	OpStartsWith
	OpBStartsWith
	OpEndsWith
	OpGlob
	OpIGlob
	OpRegex
	OpIn
	OpIntersects
	OpPMatch
	OpExists
)

var opNames = [...]string{
	OpInvalid: "invalid", OpEq: "=", OpNe: "!=", OpLt: "<", OpLe: "<=",
	OpGt: ">", OpGe: ">=", OpContains: "contains", OpIContains: "icontains",
	OpBContains: "bcontains", OpStartsWith: "startswith",
	OpBStartsWith: "bstartswith", OpEndsWith: "endswith", OpGlob: "glob",
	OpIGlob: "iglob", OpRegex: "regex", OpIn: "in", OpIntersects: "intersects",
	OpPMatch: "pmatch", OpExists: "exists",
}

var opByName = func() map[string]Operator {
	m := map[string]Operator{"==": OpEq}
	for op, name := range opNames {
		if op != int(OpInvalid) {
			m[name] = Operator(op)
		}
	}
	return m
}()

// LookupOperator returns the operator spelled s, such as "=", "==" or "pmatch".
func LookupOperator(s string) (Operator, bool) {
	op, ok := opByName[s]
	return op, ok
}

// String returns the operator's canonical spelling.
func (o Operator) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// IsList reports whether the operator takes a list on its right.
func (o Operator) IsList() bool { return o == OpIn || o == OpIntersects || o == OpPMatch }

// IsUnary reports whether the operator takes no right-hand side.
func (o Operator) IsUnary() bool { return o == OpExists }

// Transformer is a function applied to a field's value before comparing it.
type Transformer uint8

// Field transformers.
const (
	TransformInvalid Transformer = iota
	ToLower
	ToUpper
	B64
	Basename
	Len
)

var transformerNames = [...]string{
	TransformInvalid: "invalid", ToLower: "tolower", ToUpper: "toupper",
	B64: "b64", Basename: "basename", Len: "len",
}

// LookupTransformer returns the transformer named s.
func LookupTransformer(s string) (Transformer, bool) {
	for t, name := range transformerNames {
		if t != int(TransformInvalid) && name == s {
			return Transformer(t), true
		}
	}
	return TransformInvalid, false
}

// String returns the transformer's name.
func (t Transformer) String() string {
	if int(t) < len(transformerNames) {
		return transformerNames[t]
	}
	return "transformer(" + strconv.Itoa(int(t)) + ")"
}

// valFunc is the pseudo-function that marks a field on the right-hand side.
const valFunc = "val"

// isFunc reports whether name is written like a function call: a
// transformer or val.
func isFunc(name string) bool {
	_, ok := LookupTransformer(name)
	return ok || name == valFunc
}
