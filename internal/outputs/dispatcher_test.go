package outputs

import (
	"context"
	"net"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// TestDeadOutputDoesNotDelayOthers sends the same alerts to a file output
// alone, then alongside a webhook to a closed port: the file gets every
// alert in order both times, and the dead webhook's losses are counted as
// drops and failures, never silent.
func TestDeadOutputDoesNotDelayOthers(t *testing.T) {
	const n = 500
	run := func(withDead bool) ([]string, []Stats) {
		path := filepath.Join(t.TempDir(), "alerts.json")
		fs, err := NewFileSink(FileConfig{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		queues := []*Queue{NewQueue("file", fs, QueueConfig{Size: n})}
		if withDead {
			hs, err := NewHTTPSink(HTTPConfig{URL: "http://" + closedPort(t) + "/alerts", Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			queues = append(queues, NewQueue("http", hs, QueueConfig{Size: 8, MaxRetries: 1000, InitialBackoff: time.Millisecond}))
		}
		d := NewDispatcher(queues...)
		for i := range n {
			d.Emit(testAlert(i))
		}
		// The file output delivers everything while the webhook is still
		// retrying its first alert.
		waitFor(t, "the file output", func() bool { return queues[0].Stats().Sent == n })
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := d.Close(ctx); err != nil {
			t.Error(err)
		}
		return readOutputs(t, path), d.Stats()
	}
	alone, aloneStats := run(false)
	both, bothStats := run(true)
	if !reflect.DeepEqual(alone, wantSeq(n)) || !reflect.DeepEqual(both, alone) {
		t.Errorf("file output differs: alone %d alerts, with a dead webhook %d", len(alone), len(both))
	}
	if f := aloneStats[0]; f.Sent != n || f.Dropped != 0 || f.Failed != 0 {
		t.Errorf("file alone %+v", f)
	}
	if f := bothStats[0]; f.Sent != n || f.Dropped != 0 || f.Failed != 0 {
		t.Errorf("file beside a dead webhook %+v", f)
	}
	// The webhook held at most 1 alert in flight plus 8 queued; the rest
	// were dropped, and what it held failed at shutdown.
	h := bothStats[1]
	if h.Sent != 0 || h.Dropped < n-9 || h.Dropped+h.Failed != n {
		t.Errorf("dead webhook %+v", h)
	}
}

// closedPort returns a 127.0.0.1 address nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}
