// Package yamldoc parses the YAML files Vigil reads (rules, configuration,
// rule test fixtures) into nodes, so that every reader reports a syntax
// error the same way, at the file's line, and none of them can be brought
// down by the YAML library's panics on malformed input.
package yamldoc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// SyntaxError is a file that is not valid YAML. The YAML library names the
// line but not the column.
type SyntaxError struct {
	File string
	Line int // 1-based; 0 when the library named none
	Msg  string
}

func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: invalid YAML: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: invalid YAML: %s", e.File, e.Msg)
}

// Parse returns every document of data. A syntax error, or input that
// makes the library panic, is a *SyntaxError naming file.
func Parse(file string, data []byte) (docs []*yaml.Node, err error) {
	defer func() {
		if p := recover(); p != nil {
			docs, err = nil, &SyntaxError{File: file, Msg: fmt.Sprintf("malformed YAML (%v)", p)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			line, msg := splitError(err)
			return nil, &SyntaxError{File: file, Line: line, Msg: msg}
		}
		docs = append(docs, &n)
	}
}

// ParseOne returns the first document of data, or nil for a file with
// none (empty, or only comments).
func ParseOne(file string, data []byte) (*yaml.Node, error) {
	docs, err := Parse(file, data)
	if err != nil || len(docs) == 0 {
		return nil, err
	}
	return docs[0], nil
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// parserProblems are the YAML library's parser (not scanner) messages. For
// these it reports a 0-based line, so one is added to get the file's line.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"found undefined tag handle":             true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

// splitError pulls the line number out of the YAML library's message.
func splitError(err error) (int, string) {
	msg := err.Error()
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
		if parserProblems[msg] {
			line++
		}
		return line, msg
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}
