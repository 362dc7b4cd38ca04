package baseline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Limits of the import parser, so that hostile input costs bounded time
// and memory.
const (
	maxImportSize  = 64 << 20
	maxImportDepth = 16
)

// jnode is one JSON value with the offset it starts at, so that errors
// can name a line and column.
type jnode struct {
	kind  byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	off   int64
	str   string // string value, or a number's text
	bool  bool
	keys  []string // object keys in order
	kOffs []int64
	vals  []*jnode // object values, or array elements
}

var kindNames = map[byte]string{'o': "an object", 'a': "an array", 's': "a string", 'n': "a number", 'b': "a boolean", 'z': "null"}

// ImportError is a problem in an imported document, at a position.
type ImportError struct {
	File      string
	Line, Col int
	Path      string // the field, e.g. "executables[3].path"; "" for the document
	Msg       string
}

// Error renders the problem as file:line:col: field: message.
func (e *ImportError) Error() string {
	where := e.Path
	if where != "" {
		where += ": "
	}
	return fmt.Sprintf("%s:%d:%d: %s%s", e.File, e.Line, e.Col, where, e.Msg)
}

// positions turns byte offsets into line and column (both from 1;
// columns count bytes).
type positions struct {
	file  string
	lines []int64 // offset of each line's start
}

func newPositions(file string, data []byte) *positions {
	p := &positions{file: file, lines: []int64{0}}
	for i, c := range data {
		if c == '\n' {
			p.lines = append(p.lines, int64(i+1))
		}
	}
	return p
}

func (p *positions) errorf(off int64, path, format string, args ...any) *ImportError {
	lo, hi := 0, len(p.lines)
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if p.lines[mid] <= off {
			lo = mid
		} else {
			hi = mid
		}
	}
	return &ImportError{File: p.file, Line: lo + 1, Col: int(off-p.lines[lo]) + 1, Path: path, Msg: fmt.Sprintf(format, args...)}
}

// parseJSONTree reads exactly one JSON value, keeping positions; it
// refuses duplicate keys, excessive nesting and trailing data.
func parseJSONTree(data []byte, pos *positions) (*jnode, error) {
	if len(data) > maxImportSize {
		return nil, pos.errorf(0, "", "the document is larger than %d MiB", maxImportSize>>20)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	t := &treeReader{dec: dec, data: data, pos: pos}
	n, err := t.value(0, "")
	if err != nil {
		return nil, err
	}
	if off := t.start(); off < int64(len(data)) {
		return nil, pos.errorf(off, "", "unexpected data after the document")
	}
	return n, nil
}

type treeReader struct {
	dec  *json.Decoder
	data []byte
	pos  *positions
}

// start returns the offset of the next token: the decoder's offset is
// just after the previous one, so skip blanks and separators.
func (t *treeReader) start() int64 {
	off := t.dec.InputOffset()
	for off < int64(len(t.data)) {
		switch t.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	return off
}

func (t *treeReader) token() (json.Token, int64, error) {
	off := t.start()
	tok, err := t.dec.Token()
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, off, t.pos.errorf(se.Offset-1, "", "%v", se)
		}
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, off, t.pos.errorf(int64(len(t.data)), "", "unexpected end of the document")
		}
		return nil, off, t.pos.errorf(off, "", "%v", err)
	}
	return tok, off, nil
}

func (t *treeReader) value(depth int, path string) (*jnode, error) {
	tok, off, err := t.token()
	if err != nil {
		return nil, err
	}
	return t.fromToken(tok, off, depth, path)
}

func (t *treeReader) fromToken(tok json.Token, off int64, depth int, path string) (*jnode, error) {
	if depth > maxImportDepth {
		return nil, t.pos.errorf(off, path, "nested more than %d levels", maxImportDepth)
	}
	n := &jnode{off: off}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			n.kind = 'o'
			seen := map[string]bool{}
			for t.dec.More() {
				ktok, koff, err := t.token()
				if err != nil {
					return nil, err
				}
				key, _ := ktok.(string)
				if seen[key] {
					return nil, t.pos.errorf(koff, join(path, key), "duplicate key")
				}
				seen[key] = true
				child, err := t.value(depth+1, join(path, key))
				if err != nil {
					return nil, err
				}
				n.keys, n.kOffs, n.vals = append(n.keys, key), append(n.kOffs, koff), append(n.vals, child)
			}
		case '[':
			n.kind = 'a'
			for i := 0; t.dec.More(); i++ {
				child, err := t.value(depth+1, fmt.Sprintf("%s[%d]", path, i))
				if err != nil {
					return nil, err
				}
				n.vals = append(n.vals, child)
			}
		default:
			return nil, t.pos.errorf(off, path, "unexpected %q", v)
		}
		if _, _, err := t.token(); err != nil { // the closing delimiter
			return nil, err
		}
	case string:
		n.kind, n.str = 's', v
	case json.Number:
		n.kind, n.str = 'n', v.String()
	case bool:
		n.kind, n.bool = 'b', v
	case nil:
		n.kind = 'z'
	}
	return n, nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
