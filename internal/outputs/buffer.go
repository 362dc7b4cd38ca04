package outputs

import (
	"io"
	"time"
)

// Flusher is a Sink that buffers: its Queue calls Flush when no alert
// waits (and at least every flushEvery under a steady flow), so that
// buffering batches writes under load without delaying an alert while
// the output is idle.
type Flusher interface {
	Flush() error
}

// BufferSize is how many bytes a buffered output collects before writing.
const BufferSize = 64 << 10

// flushEvery bounds how long a buffered line waits while alerts keep
// coming.
const flushEvery = time.Second

// lineBuffer writes whole lines to w: at once when unbuffered, or
// collected up to BufferSize and written together by flush, never
// splitting a line, so lines of other writers (stdout is shared) never
// cut into one.
type lineBuffer struct {
	w        io.Writer
	buffered bool
	buf      []byte
}

// write writes or collects one line.
func (b *lineBuffer) write(line []byte) error {
	if !b.buffered {
		_, err := b.w.Write(line)
		return err
	}
	if len(b.buf)+len(line) > BufferSize {
		if err := b.flush(); err != nil {
			return err
		}
	}
	if len(line) >= BufferSize {
		_, err := b.w.Write(line)
		return err
	}
	b.buf = append(b.buf, line...)
	return nil
}

// flush writes what is collected. The lines are dropped on an error:
// they were already counted as sent, which is what buffering trades.
func (b *lineBuffer) flush() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.w.Write(b.buf)
	b.buf = b.buf[:0]
	return err
}
