package outputs

import (
	"path/filepath"
	"reflect"
	"testing"
)

// TestProgramRestarts: the program reads one line and exits; the sink
// starts it again for each next alert, and every alert arrives.
func TestProgramRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.json")
	// read takes one line from the pipe byte by byte, leaving the rest.
	s, err := NewProgramSink(`read -r line; printf '%s\n' "$line" >> `+path, Encoding{})
	if err != nil {
		t.Fatal(err)
	}
	q := NewQueue("program", s, fastRetry)
	for i := range 3 {
		q.Enqueue(testAlert(i))
		// Wait for the program to have written and exited, so that the
		// next line meets a dead program, not a pipe it will not read.
		waitFor(t, "the program", func() bool { return len(readOutputs(t, path)) == i+1 })
		waitFor(t, "the program to exit", func() bool { return s.Exits() == uint64(i+1) })
	}
	closeQueue(t, q)
	if got := readOutputs(t, path); !reflect.DeepEqual(got, wantSeq(3)) {
		t.Errorf("got %v", got)
	}
	if s.Starts() != 3 {
		t.Errorf("started %d times", s.Starts())
	}
}

func TestProgramCat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.json")
	s, err := NewProgramSink("cat > "+path, Encoding{})
	if err != nil {
		t.Fatal(err)
	}
	q := NewQueue("program", s, QueueConfig{})
	for i := range 100 {
		q.Enqueue(testAlert(i))
	}
	closeQueue(t, q) // closes stdin: cat exits after writing everything
	if got := readOutputs(t, path); !reflect.DeepEqual(got, wantSeq(100)) {
		t.Errorf("got %d alerts", len(got))
	}
}
