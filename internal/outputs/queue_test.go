package outputs

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
)

// flakySink fails its first n sends, then records alerts.
type flakySink struct {
	mu    sync.Mutex
	fails int
	got   []string
}

func (s *flakySink) Send(_ context.Context, a *alert.Alert) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fails > 0 {
		s.fails--
		return errors.New("down")
	}
	s.got = append(s.got, a.Output)
	return nil
}

func (s *flakySink) Close() error { return nil }

func TestQueueRetriesThenDelivers(t *testing.T) {
	s := &flakySink{fails: 3}
	q := NewQueue("flaky", s, fastRetry)
	for i := range 5 {
		q.Enqueue(testAlert(i))
	}
	closeQueue(t, q)
	if !reflect.DeepEqual(s.got, wantSeq(5)) {
		t.Errorf("got %v", s.got)
	}
	if st := q.Stats(); st.Sent != 5 || st.Failed != 0 || st.Dropped != 0 || st.Retries != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestQueueGivesUpAfterMaxRetries(t *testing.T) {
	s := &flakySink{fails: 1000}
	q := NewQueue("dead", s, QueueConfig{Size: 8, MaxRetries: 2, InitialBackoff: time.Millisecond})
	q.Enqueue(testAlert(0))
	closeQueue(t, q)
	if st := q.Stats(); st.Sent != 0 || st.Failed != 1 || st.Retries != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestQueueDropsWhenFullAndAfterClose(t *testing.T) {
	block := make(chan struct{})
	s := &blockSink{block: block}
	q := NewQueue("slow", s, QueueConfig{Size: 2})
	q.Enqueue(testAlert(0))
	waitFor(t, "the writer to take the first alert", func() bool { return q.Stats().Queued == 0 })
	accepted := 0
	for i := 1; i <= 10; i++ {
		if q.Enqueue(testAlert(i)) {
			accepted++
		}
	}
	if accepted != 2 || q.Stats().Dropped != 8 {
		t.Errorf("accepted %d, stats %+v", accepted, q.Stats())
	}
	close(block)
	closeQueue(t, q)
	if q.Enqueue(testAlert(99)) {
		t.Error("enqueue after close succeeded")
	}
	if st := q.Stats(); st.Sent != 3 || st.Dropped != 9 {
		t.Errorf("stats %+v", st)
	}
}

type blockSink struct{ block chan struct{} }

func (s *blockSink) Send(ctx context.Context, _ *alert.Alert) error {
	select {
	case <-s.block:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (s *blockSink) Close() error { return nil }

// TestQueueCloseDeadline: a sink that never returns cannot hold shutdown
// past the deadline, and what it could not send counts as failed.
func TestQueueCloseDeadline(t *testing.T) {
	q := NewQueue("stuck", &blockSink{block: make(chan struct{})}, QueueConfig{Size: 8, MaxRetries: -1})
	for i := range 3 {
		q.Enqueue(testAlert(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := q.Close(ctx); err != nil {
		t.Error(err)
	}
	if st := q.Stats(); st.Failed != 3 || st.Sent != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestWriterSinkFormats(t *testing.T) {
	var js, txt, falco, iso bytes.Buffer
	d := NewDispatcher(NewQueue("stdout", NewWriterSink(&js, Encoding{Format: FormatJSON}), QueueConfig{}),
		NewQueue("text", NewWriterSink(&txt, Encoding{Format: FormatText}), QueueConfig{}),
		NewQueue("falco", NewWriterSink(&falco, Encoding{Format: FormatFalco}), QueueConfig{}),
		NewQueue("iso", NewWriterSink(&iso, Encoding{Format: FormatFalco, JSON: alert.JSONOptions{TimeISO8601: true}}), QueueConfig{}))
	a := testAlert(7)
	a.Output = "line\nbreak"
	d.Emit(a)
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(js.String(), `{"hostname":"node-1","output":"`) ||
		!strings.HasSuffix(js.String(), "}\n") || strings.Count(js.String(), "\n") != 1 {
		t.Errorf("json %q", js.String())
	}
	if txt.String() != "2024-05-01T10:00:00.123456789Z Warning Test rule: line break\n" {
		t.Errorf("text %q", txt.String())
	}
	// Falco's text output: the local time of day, or the UTC date and
	// time, then the priority; control characters escaped as in JSON.
	if want := a.Time.Local().Format("15:04:05.000000000") + ": Warning line\\nbreak\n"; falco.String() != want {
		t.Errorf("falco %q, want %q", falco.String(), want)
	}
	if iso.String() != "2024-05-01T10:00:00.123456789+0000: Warning line\\nbreak\n" {
		t.Errorf("falco iso %q", iso.String())
	}
	if st := d.EmitterStats(); st.Emitted != 1 || st.Written != 4 || st.Dropped != 0 {
		t.Errorf("emitter stats %+v", st)
	}
}

func TestFileSinkRotates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.json")
	line := Encoding{}.appendLine(nil, testAlert(0))
	// Two lines fit in a file; keep two rotated files.
	s, err := NewFileSink(FileConfig{Path: path, MaxSize: int64(2*len(line) + 1), MaxFiles: 2})
	if err != nil {
		t.Fatal(err)
	}
	q := NewQueue("file", s, QueueConfig{})
	for i := range 7 {
		q.Enqueue(testAlert(i))
	}
	closeQueue(t, q)
	for path, want := range map[string][]string{
		path: {"alert 6"}, path + ".1": {"alert 4", "alert 5"}, path + ".2": {"alert 2", "alert 3"},
	} {
		if got := readOutputs(t, path); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", filepath.Base(path), got, want)
		}
	}
	if _, err := NewFileSink(FileConfig{Path: filepath.Join(t.TempDir(), "no", "such", "dir")}); err == nil {
		t.Error("file in a missing directory opened")
	}
}

// countingWriter counts Write calls.
type countingWriter struct {
	mu     sync.Mutex
	writes int
	buf    bytes.Buffer
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	return w.buf.Write(p)
}

// TestBufferedWriterBatches: buffered, a burst of alerts is written in
// few writes of whole lines, and nothing waits once the queue is empty.
func TestBufferedWriterBatches(t *testing.T) {
	var w countingWriter
	block := make(chan struct{})
	gate := &gatedSink{release: block, next: NewBufferedWriterSink(&w, Encoding{Format: FormatText})}
	q := NewQueue("stdout", gate, QueueConfig{Size: 200})
	for i := range 100 {
		q.Enqueue(testAlert(i))
	}
	close(block) // the whole burst is queued before the first write
	waitFor(t, "the burst to be written", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return strings.Count(w.buf.String(), "\n") == 100
	})
	w.mu.Lock()
	writes := w.writes
	w.mu.Unlock()
	if writes > 3 {
		t.Errorf("%d writes for a burst of 100 short lines", writes)
	}
	q.Enqueue(testAlert(100))
	waitFor(t, "a lone alert", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return strings.Count(w.buf.String(), "\n") == 101
	})
	closeQueue(t, q)
}

// gatedSink holds its first Send until release is closed.
type gatedSink struct {
	release chan struct{}
	next    *WriterSink
}

func (g *gatedSink) Send(ctx context.Context, a *alert.Alert) error {
	<-g.release
	return g.next.Send(ctx, a)
}
func (g *gatedSink) Flush() error { return g.next.Flush() }
func (g *gatedSink) Close() error { return g.next.Close() }
