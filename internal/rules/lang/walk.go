package lang

import "fmt"

// Inspect traverses an AST in depth-first order, as [go/ast.Inspect]
// does: it starts by calling f(node), which must not be nil. If f returns
// true, Inspect invokes itself for each of the children of node, in
// source order, and then calls f(nil). If f returns false, the children
// are skipped and so is the call f(nil).
//
// The call with nil marks the end of a node's children, so that f can
// keep a stack: the depth of the node it is in, or whether an odd number
// of [NotExpr] lies above it. Callers that need neither can ignore it: a
// type switch or assertion on nil matches no node type.
//
// The children of each node type, in the order they are visited:
//
//	*AndExpr, *OrExpr  Terms
//	*NotExpr           X
//	*CompareExpr       Left, then Right (nil, and skipped, for a unary operator)
//	*Transform         X
//	*ListLit           Items (each a *Literal)
//	*FieldValue        X
//	*MacroRef, *FieldRef, *Literal: none
//
// A [FieldRef]'s [Arg] is part of the field, not a node, and is not
// visited on its own. A [MacroRef] is a leaf: Inspect does not look up
// what it stands for, so walk an expanded condition to see through macros.
// Like go/ast's, Inspect panics on a node of a type it does not know.
func Inspect(node Node, f func(Node) bool) {
	if !f(node) {
		return
	}
	switch n := node.(type) {
	case *AndExpr:
		for _, t := range n.Terms {
			Inspect(t, f)
		}
	case *OrExpr:
		for _, t := range n.Terms {
			Inspect(t, f)
		}
	case *NotExpr:
		Inspect(n.X, f)
	case *CompareExpr:
		Inspect(n.Left, f)
		if n.Right != nil {
			Inspect(n.Right, f)
		}
	case *Transform:
		Inspect(n.X, f)
	case *ListLit:
		for _, it := range n.Items {
			Inspect(it, f)
		}
	case *FieldValue:
		Inspect(n.X, f)
	case *MacroRef, *FieldRef, *Literal:
		// leaves
	default:
		panic(fmt.Sprintf("lang.Inspect: unexpected node type %T", n))
	}
	f(nil)
}
