// Package lang is the front end of the Falco condition language: a
// hand-written lexer and recursive-descent parser producing an AST whose
// every node carries a source position, and a printer that turns an AST back
// into canonical text.
//
// [Parse] turns a condition into an [Expr] (and [ParseOperand] a lone
// field into an [Operand]); [Format] prints one back; [Inspect] visits
// every [Node] of one in depth-first order, as [go/ast.Inspect] does for
// Go source. Errors are [*Error] values, positioned by [Pos].
//
// The grammar, loosest binding first:
//
//	Expr      = AndExpr { "or" AndExpr } .
//	AndExpr   = NotExpr { "and" NotExpr } .
//	NotExpr   = { "not" } Check .
//	Check     = "(" Expr ")" | Operand Operator [ Value ] | MacroName .
//	Operand   = Field | Transformer "(" Operand ")" .
//	Field     = name { "." name } [ "[" ( bare | quoted ) "]" ] .
//	Value     = bare | quoted | List | ListName | "val(" Operand ")"
//	          | Transformer "(" ( Operand | "val(" Operand ")" ) ")" .
//	List      = "(" [ Item { "," Item } ] ")" .
//
// Bare values are any run of characters other than blanks, parentheses,
// commas, '=' and quotes, so /etc/shadow, 8080 and *.so need no quotes.
// Because what a word means depends on where it stands, the lexer keeps a
// small amount of state: after a comparison operator, and inside the list
// that follows one, it scans bare values; elsewhere it scans names and
// operators.
package lang
