package lang

import (
	"errors"
	"fmt"
	"strings"
)

// Error is a problem found at a position: a lexing or parsing error, or any
// later error that can name the text it is about.
type Error struct {
	Pos Pos
	Msg string
}

// Error formats the error as "file:line:col: message".
func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Severity says whether a diagnostic stops a rule from loading.
type Severity uint8

// Severities, worst first.
const (
	SeverityError Severity = iota
	SeverityWarning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Diagnostic is one message about a rule file: an error that kept something
// from loading, or a warning about something that loaded but looks wrong.
type Diagnostic struct {
	Pos      Pos
	Severity Severity
	Message  string
}

// String formats the diagnostic as "file:line:col: severity: message".
func (d Diagnostic) String() string {
	return d.Pos.String() + ": " + d.Severity.String() + ": " + d.Message
}

// Diagnostics is an ordered list of diagnostics.
type Diagnostics []Diagnostic

// Errorf appends an error at pos.
func (ds *Diagnostics) Errorf(pos Pos, format string, args ...any) {
	*ds = append(*ds, Diagnostic{Pos: pos, Severity: SeverityError, Message: fmt.Sprintf(format, args...)})
}

// Warnf appends a warning at pos.
func (ds *Diagnostics) Warnf(pos Pos, format string, args ...any) {
	*ds = append(*ds, Diagnostic{Pos: pos, Severity: SeverityWarning, Message: fmt.Sprintf(format, args...)})
}

// AddError appends err, keeping its position when it is an *Error.
func (ds *Diagnostics) AddError(err error) {
	var e *Error
	if errors.As(err, &e) {
		ds.Errorf(e.Pos, "%s", e.Msg)
		return
	}
	ds.Errorf(Pos{}, "%s", err.Error())
}

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Err returns nil when there are no errors, or an error listing them all.
func (ds Diagnostics) Err() error {
	var msgs []string
	for _, d := range ds {
		if d.Severity == SeverityError {
			msgs = append(msgs, d.String())
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return errors.New(strings.Join(msgs, "\n"))
}

// String returns one diagnostic per line.
func (ds Diagnostics) String() string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}
