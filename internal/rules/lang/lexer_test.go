package lang

import (
	"strings"
	"testing"
)

// kinds renders tokens compactly as Kind:text for table comparisons.
func kinds(toks []Token) string {
	var parts []string
	for _, t := range toks {
		s := t.Kind.String() + ":" + t.Text
		if t.HasArg {
			s += "[" + t.Arg + "]"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestLexModes(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"proc.name=bash", "name:proc.name operator:= value:bash end of condition:"},
		{"fd.sport>=80", "name:fd.sport operator:>= value:80 end of condition:"},
		// In a value, < > ! are ordinary characters.
		{"a.b = <NA>", "name:a.b operator:= value:<NA> end of condition:"},
		{"a.b contains !x", "name:a.b operator:contains value:!x end of condition:"},
		{"x.y in (a, 'b c')", `name:x.y operator:in '(':( value:a ',':, quoted string:b c ')':) end of condition:`},
		{"x.y exists and m", "name:x.y operator:exists 'and':and name:m end of condition:"},
		{"not(m)", "'not':not '(':( name:m ')':) end of condition:"},
		{"p.a[2] = x", "name:p.a[2] operator:= value:x end of condition:"},
		{"tolower(p.a) = val(p.b)", "name:tolower '(':( name:p.a ')':) operator:= name:val '(':( name:p.b ')':) end of condition:"},
		// After a value list closes, names are names again.
		{"a.b in (x) and c", "name:a.b operator:in '(':( value:x ')':) 'and':and name:c end of condition:"},
		// "val" not followed by '(' is just a value.
		{"a.b = val", "name:a.b operator:= value:val end of condition:"},
		{`a.b = "x`, "name:a.b operator:= error:unterminated quoted string"},
	} {
		if got := kinds(Lex(NewSource("t", c.in, 1, 1))); got != c.want {
			t.Errorf("Lex(%q)\n got  %s\n want %s", c.in, got, c.want)
		}
	}
}

func TestLexErrorIsSticky(t *testing.T) {
	l := NewLexer(NewSource("t", `"open`, 1, 1))
	first := l.Next()
	if first.Kind != Illegal {
		t.Fatalf("got %v", first.Kind)
	}
	if again := l.Next(); again != first {
		t.Errorf("second Next = %+v, want the same error", again)
	}
}

func TestSourcePositions(t *testing.T) {
	a := NewSource("a.yaml", "x and\ny", 3, 5)
	for off, want := range map[int]string{0: "a.yaml:3:5", 2: "a.yaml:3:7", 6: "a.yaml:4:1", 9: "a.yaml:4:4"} {
		if got := a.Pos(off).String(); got != want {
			t.Errorf("Pos(%d) = %s, want %s", off, got, want)
		}
	}
	b := NewSource("b.yaml", "or z", 10, 3)
	j := Join(" ", a, b)
	if j.Text != "x and\ny or z" {
		t.Fatalf("Join text %q", j.Text)
	}
	if got := j.Pos(8).String(); got != "b.yaml:10:3" {
		t.Errorf("joined part keeps its position: got %s", got)
	}
	s := j.Slice(6, 12)
	if s.Text != "y or z" || s.Pos(0).String() != "a.yaml:4:1" || s.Pos(5).String() != "b.yaml:10:6" {
		t.Errorf("Slice = %q at %s / %s", s.Text, s.Pos(0), s.Pos(5))
	}
	if got := (Pos{}).String(); got != "-" {
		t.Errorf("zero Pos = %q", got)
	}
	if got := (Pos{File: "f", Line: 2}).String(); got != "f:2" {
		t.Errorf("Pos without column = %q", got)
	}
}
