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
	w   io.Writer
	enc Encoding
	buf []byte
}

// NewWriterSink returns a sink writing alerts to w as enc renders them.
func NewWriterSink(w io.Writer, enc Encoding) *WriterSink {
	return &WriterSink{w: w, enc: enc}
}

// Send writes the alert's line.
func (s *WriterSink) Send(_ context.Context, a *alert.Alert) error {
	s.buf = s.enc.appendLine(s.buf[:0], a)
	_, err := s.w.Write(s.buf)
	return err
}

// Close does nothing: the writer belongs to the caller.
func (s *WriterSink) Close() error { return nil }
