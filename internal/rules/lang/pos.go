package lang

import (
	"sort"
	"strconv"
)

// Pos is a position in a source file. Line and Col are 1-based; Col counts
// bytes, as go/token does. The zero Pos means "unknown".
type Pos struct {
	File string
	Line int
	Col  int
}

// IsValid reports whether the position names at least a line.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String formats the position as file:line:col, leaving out the parts that
// are unknown, so that messages stay readable for sources without a file.
func (p Pos) String() string {
	s := p.File
	if p.Line > 0 {
		if s != "" {
			s += ":"
		}
		s += strconv.Itoa(p.Line)
		if p.Col > 0 {
			s += ":" + strconv.Itoa(p.Col)
		}
	}
	if s == "" {
		s = "-"
	}
	return s
}

// advance returns the position n bytes further on the same line.
func (p Pos) advance(n int) Pos {
	if p.Line > 0 && p.Col > 0 {
		p.Col += n
	}
	return p
}

// A mark says that the byte at off, and the bytes after it up to the next
// mark, came from pos onwards on one line.
type mark struct {
	off int
	pos Pos
}

// Source is text to lex together with where each of its bytes came from.
// Conditions are often cut out of a YAML file, folded across lines and
// concatenated by appends; the marks let every error point back into the
// original file anyway.
type Source struct {
	Text  string
	marks []mark
}

// NewSource returns a source for text that starts at line:col of file and
// runs contiguously, so newlines in text start new lines at column 1.
func NewSource(file, text string, line, col int) *Source {
	var b SourceBuilder
	p := Pos{File: file, Line: line, Col: col}
	for i := 0; i < len(text); i++ {
		b.Add(text[i], p)
		if text[i] == '\n' && p.Line > 0 {
			p.Line++
			p.Col = 1
		} else {
			p = p.advance(1)
		}
	}
	src := b.Source()
	if len(src.marks) == 0 {
		// An empty text still has a start, for "unexpected end" errors.
		src.marks = []mark{{0, Pos{File: file, Line: line, Col: col}}}
	}
	return src
}

// Pos returns the position of the byte at off. Offsets past the end extend
// the last run, which is where "unexpected end of condition" belongs.
func (s *Source) Pos(off int) Pos {
	if s == nil || len(s.marks) == 0 {
		return Pos{}
	}
	i := sort.Search(len(s.marks), func(i int) bool { return s.marks[i].off > off }) - 1
	if i < 0 {
		i = 0
	}
	m := s.marks[i]
	if off < m.off {
		return m.pos
	}
	return m.pos.advance(off - m.off)
}

// Slice returns the source for Text[start:end] with its positions intact.
func (s *Source) Slice(start, end int) *Source {
	start = max(0, min(start, len(s.Text)))
	end = max(start, min(end, len(s.Text)))
	out := &Source{Text: s.Text[start:end]}
	out.marks = append(out.marks, mark{0, s.Pos(start)})
	for _, m := range s.marks {
		if m.off > start && m.off < end {
			out.marks = append(out.marks, mark{m.off - start, m.pos})
		}
	}
	return out
}

// Join concatenates sources with sep between them, the way Falco appends
// conditions and outputs textually; each part keeps its own positions. The
// separator takes the position just after the preceding part.
func Join(sep string, parts ...*Source) *Source {
	var b SourceBuilder
	for i, p := range parts {
		if p == nil {
			continue
		}
		if i > 0 && b.Len() > 0 {
			end := b.last.advance(1)
			b.AddString(sep, end)
		}
		b.appendSource(p)
	}
	if b.Len() == 0 {
		// Nothing to map, but "unexpected end" still needs a place.
		for _, p := range parts {
			if p != nil {
				return &Source{marks: []mark{{0, p.Pos(0)}}}
			}
		}
	}
	return b.Source()
}

// SourceBuilder assembles a Source byte by byte or run by run, recording a
// new mark only where positions stop being contiguous.
type SourceBuilder struct {
	text  []byte
	marks []mark
	last  Pos // position of the last byte written
}

// Len returns the number of bytes written so far.
func (b *SourceBuilder) Len() int { return len(b.text) }

// Add appends c, which came from position p.
func (b *SourceBuilder) Add(c byte, p Pos) {
	if len(b.text) == 0 || p != b.last.advance(1) || b.text[len(b.text)-1] == '\n' {
		b.marks = append(b.marks, mark{len(b.text), p})
	}
	b.text = append(b.text, c)
	b.last = p
}

// AddString appends s, whose bytes came from p onwards on one line.
func (b *SourceBuilder) AddString(s string, p Pos) {
	for i := 0; i < len(s); i++ {
		b.Add(s[i], p.advance(i))
	}
}

func (b *SourceBuilder) appendSource(s *Source) {
	for i := 0; i < len(s.Text); i++ {
		b.Add(s.Text[i], s.Pos(i))
	}
}

// Source returns the built source.
func (b *SourceBuilder) Source() *Source {
	return &Source{Text: string(b.text), marks: append([]mark(nil), b.marks...)}
}
