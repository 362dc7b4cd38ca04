package outputs

import (
	"context"
	"io"

	"github.com/vigilsec/vigil/internal/alert"
)

// WriterSink writes one line per alert to an io.Writer such as stdout,
// with one Write call per alert so lines from other writers never split
// an alert.
type WriterSink struct {
	w      io.Writer
	format Format
	buf    []byte
}

// NewWriterSink returns a sink writing alerts to w in format f.
func NewWriterSink(w io.Writer, f Format) *WriterSink {
	return &WriterSink{w: w, format: f}
}

// Send writes the alert's line.
func (s *WriterSink) Send(_ context.Context, a *alert.Alert) error {
	var err error
	if s.buf, err = appendLine(s.buf[:0], a, s.format); err != nil {
		return err
	}
	_, err = s.w.Write(s.buf)
	return err
}

// Close does nothing: the writer belongs to the caller.
func (s *WriterSink) Close() error { return nil }
