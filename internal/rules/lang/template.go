package lang

import "strings"

// Template is a parsed output format such as
// "shell in container (user=%user.name cmd=%proc.cmdline)".
type Template struct {
	Parts []TemplatePart
}

// TemplatePart is either literal text or a placeholder for a field.
type TemplatePart struct {
	Text  string  // literal text, when Field is nil
	Field Operand // the placeholder's field, possibly inside transformers
}

// Fields returns the placeholders in order.
func (t *Template) Fields() []Operand {
	var fs []Operand
	for _, p := range t.Parts {
		if p.Field != nil {
			fs = append(fs, p.Field)
		}
	}
	return fs
}

// ParseTemplate parses an output format. Placeholders are written %field,
// %field[arg], %tolower(field) or %(field); "%%" is a literal percent sign
// and a '%' that starts no placeholder stays as written. A trailing '.' is
// punctuation, not part of the field name.
func ParseTemplate(src *Source) (*Template, error) {
	s := src.Text
	t := &Template{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.Parts = append(t.Parts, TemplatePart{Text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		if s[i] != '%' || i+1 >= len(s) {
			lit.WriteByte(s[i])
			i++
			continue
		}
		if s[i+1] == '%' {
			lit.WriteByte('%')
			i += 2
			continue
		}
		start, end, next := placeholder(s, i+1)
		if next < 0 {
			lit.WriteByte('%')
			i++
			continue
		}
		f, err := ParseOperand(src.Slice(start, end))
		if err != nil {
			return nil, err
		}
		flush()
		t.Parts = append(t.Parts, TemplatePart{Field: f})
		i = next
	}
	flush()
	return t, nil
}

// placeholder finds the field after the '%' at i-1. It returns the bounds
// of the text to parse and the offset just past the placeholder, or
// next < 0 when no placeholder starts there.
func placeholder(s string, i int) (start, end, next int) {
	if s[i] == '(' {
		close := matchParen(s, i)
		if close < 0 {
			return 0, 0, -1
		}
		return i + 1, close, close + 1
	}
	if !isNameStart(s[i]) {
		return 0, 0, -1
	}
	j := i
	for j < len(s) && isNameByte(s[j]) {
		j++
	}
	for j > i && s[j-1] == '.' {
		j--
	}
	call := j < len(s) && s[j] == '(' && isFunc(s[i:j])
	if !call && !strings.Contains(s[i:j], ".") {
		return 0, 0, -1 // "50%done" is prose, not a field
	}
	switch {
	case call:
		if close := matchParen(s, j); close >= 0 {
			return i, close + 1, close + 1
		}
	case j < len(s) && s[j] == '[':
		if close := strings.IndexByte(s[j:], ']'); close >= 0 {
			return i, j + close + 1, j + close + 1
		}
	}
	return i, j, j
}

// matchParen returns the index of the ')' matching the '(' at i, or -1.
func matchParen(s string, i int) int {
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}
