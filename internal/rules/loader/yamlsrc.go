package loader

import (
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/vigilsec/vigil/internal/rules/lang"
	"go.yaml.in/yaml/v3"
)

// fileText is a rules file's raw bytes, kept to map YAML values back to
// exact file positions: yaml.Node only knows where a scalar starts, and a
// folded or quoted condition no longer matches the file byte for byte.
type fileText struct {
	name       string
	data       []byte
	lineStarts []int // offset of the first byte of each line
}

func newFileText(name string, data []byte) *fileText {
	f := &fileText{name: name, data: data, lineStarts: []int{0}}
	for i, c := range data {
		if c == '\n' {
			f.lineStarts = append(f.lineStarts, i+1)
		}
	}
	return f
}

// offset converts yaml's 1-based line and column, which counts characters,
// to a byte offset.
func (f *fileText) offset(line, col int) (int, bool) {
	if line < 1 || line > len(f.lineStarts) || col < 1 {
		return 0, false
	}
	off := f.lineStarts[line-1]
	for c := 1; c < col; c++ {
		if off >= len(f.data) || f.data[off] == '\n' {
			return 0, false
		}
		_, n := utf8.DecodeRune(f.data[off:])
		off += n
	}
	return off, true
}

// pos converts a byte offset to a position with a byte column.
func (f *fileText) pos(off int) lang.Pos {
	line := sort.Search(len(f.lineStarts), func(i int) bool { return f.lineStarts[i] > off })
	return lang.Pos{File: f.name, Line: line, Col: off - f.lineStarts[line-1] + 1}
}

// nodePos returns where a node starts.
func (f *fileText) nodePos(n *yaml.Node) lang.Pos {
	if off, ok := f.offset(n.Line, n.Column); ok {
		return f.pos(off)
	}
	return lang.Pos{File: f.name, Line: n.Line, Col: n.Column}
}

// scalarSource returns a scalar's value with every byte mapped to where it
// is written in the file. It walks the value and the file side by side:
// blanks and line breaks may differ (folding, indentation), as may quoting
// and escapes; anything else must match. Should they ever disagree, it
// falls back to counting lines from the scalar's start.
func (f *fileText) scalarSource(n *yaml.Node) *lang.Source {
	v := n.Value
	start, ok := f.offset(n.Line, n.Column)
	if !ok || v == "" {
		return lang.NewSource(f.name, v, n.Line, n.Column)
	}
	p := start
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		for p < len(f.data) && f.data[p] != '\n' {
			p++ // the indicator line: |, >-, | # comment ...
		}
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		p++
	}
	var b lang.SourceBuilder
	last := f.pos(p)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if isYAMLBlank(c) {
			// A blank may stand for a fold or an indent; it takes the
			// position after the previous byte. In double quotes it may
			// also be written as an escape, which must be stepped over.
			b.Add(c, last)
			if n.Style == yaml.DoubleQuotedStyle {
				q := p
				for q < len(f.data) && isYAMLBlank(f.data[q]) {
					q++
				}
				if q+1 < len(f.data) && f.data[q] == '\\' && strings.IndexByte("tnr", f.data[q+1]) >= 0 {
					p = q + 2
				}
			}
			continue
		}
		for p < len(f.data) && isYAMLBlank(f.data[p]) {
			p++
		}
		if n.Style == yaml.DoubleQuotedStyle && p+1 < len(f.data) && f.data[p] == '\\' {
			if f.data[p+1] == '\n' || f.data[p+1] == '\r' {
				p += 2 // an escaped line break joins lines
				i--
				continue
			}
			// One escape sequence yields one character of the value.
			size := escapeLen(f.data[p+1])
			_, runeLen := utf8.DecodeRuneInString(v[i:])
			for k := 0; k < runeLen; k++ {
				b.Add(v[i+k], f.pos(p))
			}
			last = f.pos(p)
			i += runeLen - 1
			p += size
			continue
		}
		if n.Style == yaml.SingleQuotedStyle && c == '\'' && p+1 < len(f.data) && f.data[p] == '\'' && f.data[p+1] == '\'' {
			b.Add(c, f.pos(p))
			last = f.pos(p)
			p += 2
			continue
		}
		if p >= len(f.data) || f.data[p] != c {
			return f.coarseSource(n)
		}
		last = f.pos(p)
		b.Add(c, last)
		p++
	}
	return b.Source()
}

// coarseSource maps a value by lines only: the first content line of a
// block scalar is the line after its indicator.
func (f *fileText) coarseSource(n *yaml.Node) *lang.Source {
	line, col := n.Line, n.Column
	if n.Style == yaml.LiteralStyle || n.Style == yaml.FoldedStyle {
		line, col = line+1, 1
	}
	return lang.NewSource(f.name, n.Value, line, col)
}

func isYAMLBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// escapeLen is the length of a double-quoted YAML escape starting "\c".
func escapeLen(c byte) int {
	switch c {
	case 'x':
		return 4
	case 'u':
		return 6
	case 'U':
		return 10
	}
	return 2
}
