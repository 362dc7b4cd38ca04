package outputs

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilsec/vigil/internal/alert"
)

// startNATS runs an in-process server with JetStream on a free loopback
// port.
func startNATS(t *testing.T) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(s.Shutdown)
	return s
}

// TestNATSJetStream publishes with acknowledgements into a stream and
// reads the alerts back from it, by priority subject.
func TestNATSJetStream(t *testing.T) {
	srv := startNATS(t)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "VIGIL", Subjects: []string{"vigil.alerts.>"}})
	if err != nil {
		t.Fatal(err)
	}

	s, err := NewNATSSink(NATSConfig{URL: srv.ClientURL(), JetStream: true})
	if err != nil {
		t.Fatal(err)
	}
	q := NewQueue("nats", s, QueueConfig{})
	for i := range 10 {
		a := testAlert(i)
		if i%2 == 1 {
			a.Priority = "Critical"
		}
		q.Enqueue(a)
	}
	closeQueue(t, q)
	if st := q.Stats(); st.Sent != 10 || st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
	info, err := stream.Info(ctx)
	if err != nil || info.State.Msgs != 10 {
		t.Fatalf("stream holds %d messages (%v)", info.State.Msgs, err)
	}
	for i := range 10 {
		m, err := stream.GetMsg(ctx, uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		var a alert.Alert
		if err := json.Unmarshal(m.Data, &a); err != nil || a.Output != wantSeq(10)[i] {
			t.Errorf("message %d: %s (%v)", i, m.Data, err)
		}
		want := "vigil.alerts.warning"
		if i%2 == 1 {
			want = "vigil.alerts.critical"
		}
		if m.Subject != want {
			t.Errorf("message %d on %s, want %s", i, m.Subject, want)
		}
	}
}

// TestNATSJetStreamNoStream: with no stream for the subject there is no
// acknowledgement, so the alert fails, counted, instead of vanishing.
func TestNATSJetStreamNoStream(t *testing.T) {
	srv := startNATS(t)
	s, err := NewNATSSink(NATSConfig{URL: srv.ClientURL(), SubjectPrefix: "nowhere", JetStream: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	q := NewQueue("nats", s, QueueConfig{MaxRetries: 1, InitialBackoff: time.Millisecond})
	q.Enqueue(testAlert(0))
	closeQueue(t, q)
	if st := q.Stats(); st.Sent != 0 || st.Failed != 1 || st.Retries != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestNATSCore publishes without JetStream to a subscriber.
func TestNATSCore(t *testing.T) {
	srv := startNATS(t)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync("vigil.alerts.*")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil { // the subscription is in place before the send
		t.Fatal(err)
	}
	s, _ := NewNATSSink(NATSConfig{URL: srv.ClientURL()})
	q := NewQueue("nats", s, QueueConfig{})
	q.Enqueue(testAlert(0))
	m, err := sub.NextMsg(10 * time.Second)
	if err != nil || m.Subject != "vigil.alerts.warning" {
		t.Fatalf("%v %v", m, err)
	}
	closeQueue(t, q)
	if got := s.Subject("Some Thing.*"); got != "vigil.alerts.some_thing__" {
		t.Errorf("subject %q", got)
	}
}
