package lang

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/rules/internal/golden"
)

// dump writes the AST as an indented tree with each node's position, so
// that the golden files pin positions as well as structure. It walks with
// Inspect, so the goldens also pin Inspect's order and its nil calls,
// which keep the depth.
func dump(b *strings.Builder, n Node, depth int) {
	at := func(p Pos) string { return fmt.Sprintf("@%d:%d", p.Line, p.Col) }
	Inspect(n, func(n Node) bool {
		if n == nil {
			depth--
			return false
		}
		ind := strings.Repeat("  ", depth)
		depth++
		switch x := n.(type) {
		case *OrExpr:
			fmt.Fprintf(b, "%sOr %s\n", ind, at(x.Pos()))
		case *AndExpr:
			fmt.Fprintf(b, "%sAnd %s\n", ind, at(x.Pos()))
		case *NotExpr:
			fmt.Fprintf(b, "%sNot %s\n", ind, at(x.NotPos))
		case *MacroRef:
			fmt.Fprintf(b, "%sMacro %s %s\n", ind, x.Name, at(x.NamePos))
		case *CompareExpr:
			fmt.Fprintf(b, "%sCompare %s %s\n", ind, x.Op, at(x.OpPos))
		case *FieldRef:
			fmt.Fprintf(b, "%sField %s %s", ind, x.Name, at(x.NamePos))
			if x.Arg != nil {
				fmt.Fprintf(b, " arg=%q quoted=%v %s", x.Arg.Text, x.Arg.Quoted, at(x.Arg.Pos))
			}
			b.WriteByte('\n')
		case *Transform:
			fmt.Fprintf(b, "%sTransform %s %s\n", ind, x.Func, at(x.NamePos))
		case *Literal:
			fmt.Fprintf(b, "%sLiteral %q quoted=%v %s\n", ind, x.Text, x.Quoted, at(x.ValuePos))
		case *ListLit:
			fmt.Fprintf(b, "%sList ref=%v %s\n", ind, x.Ref, at(x.LParen))
		case *FieldValue:
			fmt.Fprintf(b, "%sFieldValue %s\n", ind, at(x.ValPos))
		default:
			fmt.Fprintf(b, "%s<%T>\n", ind, n)
		}
		return true
	})
}

func TestParseGolden(t *testing.T) {
	var out strings.Builder
	for _, c := range golden.ReadCases(t, "testdata/conditions.txt") {
		fmt.Fprintf(&out, "-- %s --\n", c.Name)
		x, err := Parse(NewSource(c.Name, c.Text, 1, 1))
		if err != nil {
			t.Errorf("%s: unexpected error: %v", c.Name, err)
			fmt.Fprintf(&out, "error: %v\n", err)
			continue
		}
		text := Format(x)
		fmt.Fprintf(&out, "format: %s\n", text)
		dump(&out, x, 0)
		// The canonical text must parse back to the same canonical text.
		y, err := Parse(NewSource(c.Name, text, 1, 1))
		if err != nil {
			t.Errorf("%s: reparsing %q: %v", c.Name, text, err)
		} else if again := Format(y); again != text {
			t.Errorf("%s: format is not stable:\n%s\n%s", c.Name, text, again)
		}
	}
	golden.Check(t, "testdata/conditions.golden", []byte(out.String()))
}

func TestParseErrorsGolden(t *testing.T) {
	var out strings.Builder
	for _, c := range golden.ReadCases(t, "testdata/errors.txt") {
		x, err := Parse(NewSource(c.Name, c.Text, 1, 1))
		if err == nil {
			t.Errorf("%s: parsed without error as %s", c.Name, Format(x))
			continue
		}
		if _, ok := err.(*Error); !ok {
			t.Errorf("%s: error %T is not *Error", c.Name, err)
		}
		fmt.Fprintf(&out, "%v\n", err)
	}
	golden.Check(t, "testdata/errors.golden", []byte(out.String()))
}

func TestParseDeepNesting(t *testing.T) {
	deep := strings.Repeat("(", MaxDepth+5) + "a" + strings.Repeat(")", MaxDepth+5)
	if _, err := Parse(NewSource("deep", deep, 1, 1)); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Fatalf("got %v, want a nesting error", err)
	}
	nots := strings.Repeat("not ", MaxDepth+5) + "a"
	if _, err := Parse(NewSource("nots", nots, 1, 1)); err == nil {
		t.Fatal("deeply nested not parsed")
	}
	ok := strings.Repeat("(", 50) + "a" + strings.Repeat(")", 50)
	if _, err := Parse(NewSource("ok", ok, 1, 1)); err != nil {
		t.Fatal(err)
	}
}

func TestParseOperand(t *testing.T) {
	for _, s := range []string{"proc.name", "proc.aname[3]", "tolower(basename(proc.exepath))"} {
		o, err := ParseOperand(NewSource("f", s, 1, 1))
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if got := FormatOperand(o); got != s {
			t.Errorf("FormatOperand = %q, want %q", got, s)
		}
	}
	for _, s := range []string{"", "bash", "proc.name = x", "val(proc.name)"} {
		if _, err := ParseOperand(NewSource("f", s, 1, 1)); err == nil {
			t.Errorf("%q parsed as an operand", s)
		}
	}
}

func TestArgIndex(t *testing.T) {
	for _, c := range []struct {
		arg  *Arg
		n    int
		isOK bool
	}{
		{&Arg{Text: "2"}, 2, true},
		{&Arg{Text: "x"}, 0, false},
		{&Arg{Text: "-1"}, 0, false},
		{&Arg{Text: "2", Quoted: true}, 0, false},
		{nil, 0, false},
	} {
		if n, ok := c.arg.Index(); n != c.n || ok != c.isOK {
			t.Errorf("%+v.Index() = %d, %v", c.arg, n, ok)
		}
	}
}
