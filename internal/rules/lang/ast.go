package lang

import "strconv"

// Node is any AST node; every node knows where it starts. [Inspect] visits
// every node of a tree.
type Node interface {
	Pos() Pos
}

// Expr is a boolean expression: *AndExpr, *OrExpr, *NotExpr, *CompareExpr
// or *MacroRef.
type Expr interface {
	Node
	exprNode()
}

// Operand is something that yields a value from an event: a *FieldRef or a
// *Transform around another operand.
type Operand interface {
	Node
	operandNode()
}

// Value is the right-hand side of a comparison: a *Literal, a *ListLit or
// a *FieldValue.
type Value interface {
	Node
	valueNode()
}

// AndExpr is true when all of its terms are; it has at least two.
type AndExpr struct {
	Terms []Expr
}

// OrExpr is true when any of its terms is; it has at least two.
type OrExpr struct {
	Terms []Expr
}

// NotExpr negates X.
type NotExpr struct {
	NotPos Pos
	X      Expr
}

// CompareExpr applies Op to Left and Right. Right is nil for unary
// operators (exists).
type CompareExpr struct {
	Left  Operand
	Op    Operator
	OpPos Pos
	Right Value
}

// MacroRef is a bare name standing for a macro's condition.
type MacroRef struct {
	NamePos Pos
	Name    string
}

// FieldRef names a field, with an optional bracketed argument as in
// proc.aname[2] or k8s.pod.label[app.kubernetes.io/name].
type FieldRef struct {
	NamePos Pos
	Name    string
	Arg     *Arg
}

// Arg is a field's bracketed argument, kept as text: what it means is up
// to the field.
type Arg struct {
	Pos    Pos
	Text   string
	Quoted bool
}

// Index returns the argument as a non-negative integer, as used by
// proc.aname[2] and evt.arg[0].
func (a *Arg) Index() (int, bool) {
	if a == nil || a.Quoted {
		return 0, false
	}
	n, err := strconv.Atoi(a.Text)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// Transform applies a transformer such as tolower to X.
type Transform struct {
	NamePos Pos
	Func    Transformer
	X       Operand
}

// Literal is a single value, bare or quoted. Its meaning (string, number,
// address) is decided by the field it is compared with.
type Literal struct {
	ValuePos Pos
	Text     string
	Quoted   bool
}

// ListLit is a list of values: (a, b, "c d"). A list written as a bare
// list name, as in "proc.name in shell_binaries", has Ref set and the name
// as its single item.
type ListLit struct {
	LParen Pos
	Items  []*Literal
	Ref    bool
}

// FieldValue compares against another field of the same event:
// val(proc.pname), or a transformer applied to one.
type FieldValue struct {
	ValPos Pos
	X      Operand
}

// Pos returns the position of the first term.
func (x *AndExpr) Pos() Pos { return x.Terms[0].Pos() }

// Pos returns the position of the first term.
func (x *OrExpr) Pos() Pos { return x.Terms[0].Pos() }

// Pos returns the position of the "not" keyword.
func (x *NotExpr) Pos() Pos { return x.NotPos }

// Pos returns the position of the left operand.
func (x *CompareExpr) Pos() Pos { return x.Left.Pos() }

// Pos returns the position of the macro name.
func (x *MacroRef) Pos() Pos { return x.NamePos }

// Pos returns the position of the field name.
func (x *FieldRef) Pos() Pos { return x.NamePos }

// Pos returns the position of the transformer name.
func (x *Transform) Pos() Pos { return x.NamePos }

// Pos returns the position of the value.
func (x *Literal) Pos() Pos { return x.ValuePos }

// Pos returns the position of the opening parenthesis, or of the list name.
func (x *ListLit) Pos() Pos { return x.LParen }

// Pos returns the position of val, or of the transformer.
func (x *FieldValue) Pos() Pos { return x.ValPos }

func (*AndExpr) exprNode()     {}
func (*OrExpr) exprNode()      {}
func (*NotExpr) exprNode()     {}
func (*CompareExpr) exprNode() {}
func (*MacroRef) exprNode()    {}

func (*FieldRef) operandNode()  {}
func (*Transform) operandNode() {}

func (*Literal) valueNode()    {}
func (*ListLit) valueNode()    {}
func (*FieldValue) valueNode() {}

// BaseField returns the field under any transformers.
func BaseField(o Operand) *FieldRef {
	for {
		switch x := o.(type) {
		case *FieldRef:
			return x
		case *Transform:
			o = x.X
		default:
			return nil
		}
	}
}
