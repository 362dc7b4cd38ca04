package lang

import (
	"fmt"
	"go/ast"
	goparser "go/parser"
	"go/token"
	"strings"
	"testing"
)

// allNodes is a condition with every node type in it: or, and, not, a
// comparison with a list, one with a transformed field against val() of a
// field with an argument, a macro, a unary comparison and a literal.
const allNodes = `not proc.name in (bash, "sh") and tolower(fd.name) = val(proc.aname[2])` +
	` or my_macro or (fd.name exists and evt.type = open)`

// label names a node for a trace.
func label(n Node) string {
	switch x := n.(type) {
	case *OrExpr:
		return "Or"
	case *AndExpr:
		return "And"
	case *NotExpr:
		return "Not"
	case *CompareExpr:
		return "Compare " + x.Op.String()
	case *MacroRef:
		return "Macro " + x.Name
	case *FieldRef:
		return "Field " + x.Name
	case *Transform:
		return "Transform " + x.Func.String()
	case *Literal:
		return "Literal " + x.Text
	case *ListLit:
		return "List"
	case *FieldValue:
		return "FieldValue"
	}
	return fmt.Sprintf("%T", n)
}

// trace walks x and writes each node as its label and "{", and each call
// with nil as "}", so that braces show where Inspect says a node's
// children end. descend decides what f returns.
func trace(x Node, descend func(Node) bool) string {
	var b strings.Builder
	Inspect(x, func(n Node) bool {
		if n == nil {
			b.WriteString("}")
			return false
		}
		if s := b.String(); s != "" && !strings.HasSuffix(s, "{") {
			b.WriteString(" ")
		}
		b.WriteString(label(n))
		if !descend(n) {
			return false
		}
		b.WriteString("{")
		return true
	})
	return b.String()
}

func mustParse(t *testing.T, s string) Expr {
	t.Helper()
	x, err := Parse(NewSource("t", s, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestInspectOrder(t *testing.T) {
	got := trace(mustParse(t, allNodes), func(Node) bool { return true })
	want := "Or{" +
		"And{" +
		"Not{Compare in{Field proc.name{} List{Literal bash{} Literal sh{}}}} " +
		"Compare ={Transform tolower{Field fd.name{}} FieldValue{Field proc.aname{}}}" +
		"} " +
		"Macro my_macro{} " +
		"And{Compare exists{Field fd.name{}} Compare ={Field evt.type{} Literal open{}}}" +
		"}"
	if got != want {
		t.Errorf("visit order:\n got %s\nwant %s", got, want)
	}
}

// TestInspectCoversEveryNodeType checks that the tree of TestInspectOrder
// holds every type in ast.go with a Pos method, so that a node type added
// there without a case in Inspect (which panics on it) fails here first.
func TestInspectCoversEveryNodeType(t *testing.T) {
	f, err := goparser.ParseFile(token.NewFileSet(), "ast.go", nil, goparser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || fn.Name.Name != "Pos" {
			continue
		}
		star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
		if !ok {
			t.Fatalf("Pos has a value receiver: %v", fn.Recv.List[0].Type)
		}
		types = append(types, "*lang."+star.X.(*ast.Ident).Name)
	}
	if len(types) < 10 {
		t.Fatalf("found only %v in ast.go", types)
	}
	seen := map[string]bool{}
	Inspect(mustParse(t, allNodes), func(n Node) bool {
		if n != nil {
			seen[fmt.Sprintf("%T", n)] = true
		}
		return true
	})
	for _, typ := range types {
		if !seen[typ] {
			t.Errorf("%s is not in the test tree; add it, and a case to Inspect", typ)
		}
	}
}

func TestInspectPrunes(t *testing.T) {
	x := mustParse(t, allNodes)

	// Returning false for comparisons hides every operand and value, and
	// the pruned nodes get no closing nil.
	got := trace(x, func(n Node) bool {
		_, isCmp := n.(*CompareExpr)
		return !isCmp
	})
	want := "Or{And{Not{Compare in} Compare =} Macro my_macro{} And{Compare exists Compare =}}"
	if got != want {
		t.Errorf("pruned at comparisons:\n got %s\nwant %s", got, want)
	}

	// Returning false at the root is one call.
	calls := 0
	Inspect(x, func(Node) bool { calls++; return false })
	if calls != 1 {
		t.Errorf("pruned at the root: %d calls, want 1", calls)
	}
}

func TestInspectExpanded(t *testing.T) {
	// Trees built by hand (as macro expansion builds them) are walked the
	// same way as parsed ones; a unary comparison has no Right.
	f := &FieldRef{Name: "fd.name"}
	x := &NotExpr{X: &CompareExpr{Left: &Transform{Func: ToLower, X: f}, Op: OpExists}}
	got := trace(x, func(Node) bool { return true })
	want := "Not{Compare exists{Transform tolower{Field fd.name{}}}}"
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
