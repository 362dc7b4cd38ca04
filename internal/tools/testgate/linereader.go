package main

import (
	"bufio"
	"bytes"
	"io"
)

// lineReader splits a stream into lines of any length: a test can print a
// line longer than bufio.Scanner's limit, and the gate must not stop
// reading there.
type lineReader struct{ r *bufio.Reader }

func newLineReader(r io.Reader) *lineReader { return &lineReader{bufio.NewReaderSize(r, 64<<10)} }

// next returns the next line without its newline; at the end of the
// stream it returns the last, unterminated line (if any) with io.EOF.
func (l *lineReader) next() ([]byte, error) {
	line, err := l.r.ReadBytes('\n')
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	if err == io.EOF && len(line) == 0 {
		return nil, io.EOF
	}
	return line, err
}
