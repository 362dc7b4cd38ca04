package lang

import (
	"errors"
	"testing"
)

func FuzzLexer(f *testing.F) {
	f.Add("evt.type in (open, openat) and not proc.name = bash")
	f.Add(`proc.aname[2] = "x" and k8s.pod.label[app.kubernetes.io/name] exists`)
	f.Fuzz(func(t *testing.T, s string) {
		toks := Lex(NewSource("fuzz", s, 1, 1))
		last := toks[len(toks)-1]
		if last.Kind != EOF && last.Kind != Illegal {
			t.Fatalf("token stream ends with %v", last.Kind)
		}
		prev := 0
		for _, tok := range toks {
			if tok.Off < prev || tok.End < tok.Off || tok.End > len(s) {
				t.Fatalf("token %+v out of order or bounds (prev end %d, len %d)", tok, prev, len(s))
			}
			if tok.Kind != EOF && tok.Kind != Illegal && tok.End == tok.Off {
				t.Fatalf("empty token %+v", tok)
			}
			prev = tok.End
		}
	})
}

func FuzzParseCondition(f *testing.F) {
	f.Add("evt.type in (open, openat) and not proc.name = bash")
	f.Add("tolower(proc.name) = val(proc.pname) or fd.name pmatch (/etc)")
	f.Fuzz(func(t *testing.T, s string) {
		x, err := Parse(NewSource("fuzz", s, 1, 1))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !e.Pos.IsValid() {
				t.Fatalf("error without position: %v", err)
			}
			return
		}
		// Inspect knows every node the parser builds and closes each.
		open := 0
		Inspect(x, func(n Node) bool {
			if n == nil {
				open--
			} else {
				open++
			}
			return true
		})
		if open != 0 {
			t.Fatalf("Inspect of %q: %d nodes without their closing nil", s, open)
		}
		text := Format(x)
		y, err := Parse(NewSource("fuzz", text, 1, 1))
		if err != nil {
			t.Fatalf("canonical text %q of %q does not parse: %v", text, s, err)
		}
		if again := Format(y); again != text {
			t.Fatalf("format unstable for %q:\n%s\n%s", s, text, again)
		}
	})
}
