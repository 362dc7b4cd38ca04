package outputs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/vigilsec/vigil/internal/alert"
)

// FileConfig configures a FileSink.
type FileConfig struct {
	Path string
	// MaxSize rotates the file before a write would take it past this
	// many bytes; <= 0 never rotates.
	MaxSize int64
	// MaxFiles is how many rotated files (path.1 … path.N, newest first)
	// are kept; older ones are removed. <= 0 keeps one.
	MaxFiles int
	// Encoding renders each line; the zero value is JSON.
	Encoding Encoding
	// Buffered collects lines and writes them in batches (see Flusher).
	Buffered bool
}

// FileSink appends alerts as lines (JSON by default) to a file, rotating
// it by size.
type FileSink struct {
	cfg  FileConfig
	f    *os.File
	out  lineBuffer
	size int64 // of the file, with the lines collected
	buf  []byte
}

// NewFileSink opens (or creates) cfg.Path for appending.
func NewFileSink(cfg FileConfig) (*FileSink, error) {
	if cfg.Path == "" {
		return nil, fmt.Errorf("file output: no path")
	}
	if cfg.MaxFiles <= 0 {
		cfg.MaxFiles = 1
	}
	s := &FileSink{cfg: cfg}
	if err := s.open(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *FileSink) open() error {
	f, err := os.OpenFile(s.cfg.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("file output: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		return errors.Join(fmt.Errorf("file output: %w", err), f.Close())
	}
	s.f, s.size = f, st.Size()
	s.out = lineBuffer{w: f, buffered: s.cfg.Buffered, buf: s.out.buf[:0]}
	return nil
}

// Send appends the alert's line, rotating first if it would not fit.
func (s *FileSink) Send(_ context.Context, a *alert.Alert) error {
	s.buf = s.cfg.Encoding.appendLine(s.buf[:0], a)
	if s.f == nil { // a failed rotation left no file open: try again
		if err := s.open(); err != nil {
			return err
		}
	}
	if s.cfg.MaxSize > 0 && s.size > 0 && s.size+int64(len(s.buf)) > s.cfg.MaxSize {
		if err := s.rotate(); err != nil {
			return err
		}
	}
	if err := s.out.write(s.buf); err != nil {
		return err
	}
	s.size += int64(len(s.buf))
	return nil
}

// Flush writes the lines collected.
func (s *FileSink) Flush() error {
	if s.f == nil {
		return nil
	}
	return s.out.flush()
}

// rotate shifts path.i to path.i+1, dropping the oldest, and starts a new
// file at path. A file that cannot be shifted stops the rotation before
// the next shift would overwrite it. A failed close of the full file is
// reported once the new one is open: the alert is then retried there.
func (s *FileSink) rotate() error {
	closeErr := errors.Join(s.out.flush(), s.f.Close())
	s.f = nil
	p := s.cfg.Path
	if err := os.Remove(fmt.Sprintf("%s.%d", p, s.cfg.MaxFiles)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("file output: rotate: %w", err)
	}
	for i := s.cfg.MaxFiles - 1; i >= 1; i-- {
		err := os.Rename(fmt.Sprintf("%s.%d", p, i), fmt.Sprintf("%s.%d", p, i+1))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("file output: rotate: %w", err)
		}
	}
	if err := os.Rename(p, p+".1"); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("file output: rotate: %w", err)
	}
	if err := s.open(); err != nil {
		return err
	}
	if closeErr != nil {
		return fmt.Errorf("file output: close %s before rotating it: %w", p, closeErr)
	}
	return nil
}

// Close closes the file.
func (s *FileSink) Close() error {
	if s.f == nil {
		return nil
	}
	return errors.Join(s.out.flush(), s.f.Close())
}
