package yamldoc

import (
	"errors"
	"testing"
)

func TestSyntaxErrorsNameTheLine(t *testing.T) {
	for src, want := range map[string]string{
		"a: 1\nb: [1, 2\n":          "f.yaml:2: invalid YAML: did not find expected ',' or ']'",
		"a: 1\n  b: 2\n":            "f.yaml:2: invalid YAML: mapping values are not allowed in this context",
		"a: 1\n\tb: 2\n":            "f.yaml:2: invalid YAML: found a tab character that violates indentation",
		"- x\n- y\nz: 1\n":          "f.yaml:3: invalid YAML: did not find expected '-' indicator",
		"a: \"unterminated\nb: 2\n": "f.yaml:3: invalid YAML: found unexpected end of stream",
		"a: 1\n---\nb: [\n":         "f.yaml:4: invalid YAML: did not find expected node content",
	} {
		_, err := Parse("f.yaml", []byte(src))
		var se *SyntaxError
		if !errors.As(err, &se) || err.Error() != want {
			t.Errorf("%q: error %v, want %q", src, err, want)
		}
	}
}

func TestParseDocuments(t *testing.T) {
	docs, err := Parse("f.yaml", []byte("a: 1\n---\nb: 2\n"))
	if err != nil || len(docs) != 2 || docs[1].Content[0].Content[0].Value != "b" || docs[1].Content[0].Line != 3 {
		t.Fatalf("docs %v err %v", docs, err)
	}
	for _, empty := range []string{"", "# only a comment\n"} {
		if n, err := ParseOne("f.yaml", []byte(empty)); n != nil || err != nil {
			t.Errorf("%q: node %v err %v, want neither", empty, n, err)
		}
	}
}

// FuzzParse: no input panics out of Parse, and every failure is a
// *SyntaxError that names the file.
func FuzzParse(f *testing.F) {
	f.Add([]byte("- rule: x\n  condition: evt.type = open\n"))
	f.Add([]byte("a: [1, {b: *c}]\n"))
	f.Add([]byte("&a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Parse("fuzz.yaml", data)
		var se *SyntaxError
		if err != nil && (!errors.As(err, &se) || se.File != "fuzz.yaml") {
			t.Fatalf("error %v is not a SyntaxError for the file", err)
		}
	})
}
