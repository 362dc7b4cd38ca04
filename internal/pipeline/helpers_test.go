package pipeline

import (
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/event"
)

func newEvent(kind event.Kind, pid uint32, seq uint64) *event.Event {
	ev := event.New()
	ev.Kind = kind
	ev.PID, ev.TID = pid, pid
	ev.Timestamp = seq
	return ev
}

// within fails the test if fn does not return in time: Submit and Close
// must never hang.
func within(t *testing.T, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
}
