package transport

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilsec/vigil/internal/testutil"
)

// received consumes want messages of the data stream.
func received(t *testing.T, js jetstream.JetStream, want int) []Envelope {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := js.CreateOrUpdateConsumer(ctx, DataStream, jetstream.ConsumerConfig{Durable: "test", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	var out []Envelope
	for len(out) < want {
		m, err := c.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", len(out), want, err)
		}
		if err := m.Ack(); err != nil {
			t.Fatal(err)
		}
		var e Envelope
		if err := json.Unmarshal(m.Data(), &e); err != nil {
			t.Fatal(err)
		}
		if got := m.Headers().Get(jetstream.MsgIDHeader); got != e.ID {
			t.Fatalf("Nats-Msg-Id %q, envelope id %q", got, e.ID)
		}
		out = append(out, e)
	}
	return out
}

// TestPublisherSpoolsAndDrains: alerts made while NATS is down are
// spooled and arrive, all and in order, when it is back.
func TestPublisherSpoolsAndDrains(t *testing.T) {
	storeDir := t.TempDir()
	ns := testutil.NATS(t, storeDir, 0)
	port := ns.Addr().(interface{ String() string }).String()
	url := "nats://" + port
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	if err := EnsureStreams(context.Background(), js, "vigil", StreamOptions{MaxAge: time.Hour, DuplicateWindow: time.Minute}); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	p, err := Start(Config{URL: url, Node: "node-a", SpoolDir: t.TempDir(), SpoolMaxBytes: 8 << 20,
		Timeout: 2 * time.Second, HeartbeatInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	publish := func(from, n int) {
		for i := from; i < from+n; i++ {
			for !p.Publish(KindAlert, map[string]any{"n": i}) {
				time.Sleep(time.Millisecond) // the test outpaces the sender; the agent would count a drop
			}
		}
	}
	publish(0, 100)
	waitFor(t, func() bool { return p.Stats().Sent >= 100 }, "100 sent")

	ns.Shutdown()
	waitFor(t, func() bool { return !p.Stats().Connected }, "disconnected")
	publish(100, 200)
	waitFor(t, func() bool { return p.Stats().Spool.Records == 200 }, "200 spooled")

	_, portStr, _ := strings.Cut(port, ":")
	pn, _ := strconv.Atoi(portStr)
	testutil.NATS(t, storeDir, pn)
	publish(300, 50) // while the spool drains: behind it, in order
	waitFor(t, func() bool { st := p.Stats(); return st.Spool.Records == 0 && st.Queued == 0 && st.Sent >= 350 }, "spool drained")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}

	nc, _ = nats.Connect(url)
	defer nc.Close()
	js, _ = jetstream.New(nc)
	got := received(t, js, 350)
	prevSeq := 0
	for i, e := range got {
		var pl struct{ N int }
		if err := json.Unmarshal(e.Payload, &pl); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		seq, err := strconv.Atoi(strings.TrimPrefix(e.ID, p.Instance()+"-"))
		if pl.N != i || e.Node != "node-a" || e.Kind != KindAlert || err != nil || seq <= prevSeq {
			t.Fatalf("message %d: %+v (payload %d)", i, e, pl.N)
		}
		prevSeq = seq
	}
	st := p.Stats()
	t.Logf("produced 350, in the stream %d, sent %d, publish failures %d, dropped %d", len(got), st.Sent, st.Failures, st.Dropped)
	if st.Dropped != 0 || st.Spool.Dropped != 0 {
		t.Errorf("dropped %d, spool dropped %d", st.Dropped, st.Spool.Dropped)
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
