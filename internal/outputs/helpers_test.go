package outputs

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
)

// testAlert is alert number i of a test run; its output carries i so that
// order and completeness can be checked.
func testAlert(i int) *alert.Alert {
	return &alert.Alert{
		Time:     time.Date(2024, 5, 1, 10, 0, 0, 123456789, time.UTC),
		Rule:     "Test rule",
		Priority: "Warning",
		Source:   "syscall",
		Hostname: "node-1",
		Output:   fmt.Sprintf("alert %d", i),
		Tags:     []string{"test"},
		OutputFields: map[string]any{
			"proc.name": "cat", "n": i,
		},
		Context: alert.Context{Identity: alert.Identity{ContainerID: "c0ffee"}},
	}
}

// fastRetry retries quickly so that tests of failures stay short.
var fastRetry = QueueConfig{Size: 64, MaxRetries: 50, InitialBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}

// waitFor polls cond for up to 20s: tests wait on outcomes, never on
// fixed sleeps.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// closeQueue closes q with a bounded drain.
func closeQueue(t *testing.T, q *Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Close(ctx); err != nil {
		t.Errorf("close %s: %v", q.Name(), err)
	}
}

// readOutputs returns the "output" field of every JSON line in path.
func readOutputs(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var outs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var a alert.Alert
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("%s: %v: %s", path, err, sc.Bytes())
		}
		outs = append(outs, a.Output)
	}
	return outs
}

func wantSeq(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("alert %d", i)
	}
	return s
}
