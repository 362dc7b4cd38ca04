package outputs

import (
	"context"
	"io"

	"github.com/vigilsec/vigil/internal/alert"
)

// WriterSink writes one line per alert to an io.Writer such as stdout,
// with one Write call per alert (or, buffered, per batch of whole lines)
// so lines from other writers never split an alert.
type WriterSink struct {
	out lineBuffer
	enc Encoding
	buf []byte
}

// NewWriterSink returns a sink writing alerts to w as enc renders them.
func NewWriterSink(w io.Writer, enc Encoding) *WriterSink {
	return &WriterSink{out: lineBuffer{w: w}, enc: enc}
}

// NewBufferedWriterSink is NewWriterSink with buffering (Falco's
// buffered_outputs): lines are written in batches, see Flusher.
func NewBufferedWriterSink(w io.Writer, enc Encoding) *WriterSink {
	return &WriterSink{out: lineBuffer{w: w, buffered: true}, enc: enc}
}

// Flush writes the lines collected.
func (s *WriterSink) Flush() error { return s.out.flush() }

// Send writes the alert's line.
func (s *WriterSink) Send(_ context.Context, a *alert.Alert) error {
	s.buf = s.enc.appendLine(s.buf[:0], a)
	return s.out.write(s.buf)
}

// Close writes what is collected; the writer belongs to the caller.
func (s *WriterSink) Close() error { return s.out.flush() }
