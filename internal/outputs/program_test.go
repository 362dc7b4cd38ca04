package outputs

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
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

// TestProgramPerAlert: without keep_alive the program starts once per
// alert and reads exactly that alert, at most MaxConcurrent at a time.
func TestProgramPerAlert(t *testing.T) {
	dir := t.TempDir()
	// Each program records how many run beside it, then its line.
	cmd := `n=$(ls ` + dir + `/run.* 2>/dev/null | wc -l); touch ` + dir + `/run.$$; sleep 0.1; ` +
		`echo "$n" >> ` + dir + `/concurrent; cat > ` + dir + `/alert.$$; rm ` + dir + `/run.$$`
	s, err := NewEachProgramSink(EachProgramConfig{Command: cmd, MaxConcurrent: 2})
	if err != nil {
		t.Fatal(err)
	}
	q := NewQueue("program", s, QueueConfig{})
	for i := range 6 {
		q.Enqueue(testAlert(i))
	}
	closeQueue(t, q) // waits for the programs
	if s.Starts() != 6 || s.Exits() != 6 {
		t.Errorf("starts %d exits %d", s.Starts(), s.Exits())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "alert.*"))
	var got []string
	for _, f := range files {
		outs := readOutputs(t, f)
		if len(outs) != 1 {
			t.Errorf("%s holds %d alerts", f, len(outs))
		}
		got = append(got, outs...)
	}
	sort.Strings(got)
	want := wantSeq(6)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("alerts %v", got)
	}
	counts, _ := os.ReadFile(filepath.Join(dir, "concurrent"))
	for _, n := range strings.Fields(string(counts)) {
		if n != "0" && n != "1" {
			t.Errorf("a program saw %s others running, with at most 2 at once", n)
		}
	}
}

// TestProgramPerAlertTimeout: a program that does not end is killed at
// the timeout, and Close returns.
func TestProgramPerAlertTimeout(t *testing.T) {
	s, err := NewEachProgramSink(EachProgramConfig{Command: "sleep 60", Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), testAlert(0)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Killed() != 1 || s.Exits() != 1 {
		t.Errorf("killed %d exits %d", s.Killed(), s.Exits())
	}
}
