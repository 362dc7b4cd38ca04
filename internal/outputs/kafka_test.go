package outputs

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/vigilsec/vigil/internal/alert"
)

const kafkaTopic = "vigil-alerts"

func startKafka(t *testing.T, port int) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.SeedTopics(1, kafkaTopic))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// consume reads n records of the topic from the start.
func consume(t *testing.T, addrs []string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(kafkaTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records", len(recs), n)
		}
		recs = append(recs, fs.Records()...)
	}
	return recs
}

func recordOutputs(t *testing.T, recs []*kgo.Record) []string {
	var outs []string
	for _, r := range recs {
		var a alert.Alert
		if err := json.Unmarshal(r.Value, &a); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, a.Output)
	}
	return outs
}

// TestKafkaDownThenBack delivers to a kfake broker keyed by container id,
// then stops the broker: alerts wait and retry in the queue; a broker
// started again on the same port receives them all.
func TestKafkaDownThenBack(t *testing.T) {
	c := startKafka(t, 0)
	addrs := c.ListenAddrs()
	_, portStr, _ := strings.Cut(addrs[0], ":")
	port, _ := strconv.Atoi(portStr)

	s, err := NewKafkaSink(KafkaConfig{Brokers: addrs, Topic: kafkaTopic, Key: KeyContainerID, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	q := NewQueue("kafka", s, QueueConfig{Size: 64, MaxRetries: 100, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	for i := range 3 {
		q.Enqueue(testAlert(i))
	}
	recs := consume(t, addrs, 3)
	if got := recordOutputs(t, recs); !reflect.DeepEqual(got, wantSeq(3)) {
		t.Errorf("delivered %v", got)
	}
	if string(recs[0].Key) != "c0ffee" {
		t.Errorf("key %q", recs[0].Key)
	}

	c.Close() // the broker is down
	for i := 3; i < 8; i++ {
		q.Enqueue(testAlert(i))
	}
	waitFor(t, "a failed attempt", func() bool { return q.Stats().Retries > 0 })
	if st := q.Stats(); st.Sent != 3 {
		t.Errorf("sent while down: %+v", st)
	}

	c2 := startKafka(t, port) // and back
	defer c2.Close()
	waitFor(t, "delivery after the broker came back", func() bool { return q.Stats().Sent == 8 })
	closeQueue(t, q)
	got := recordOutputs(t, consume(t, c2.ListenAddrs(), 5))
	if !reflect.DeepEqual(got, wantSeq(8)[3:]) {
		t.Errorf("after restart %v", got)
	}
	if st := q.Stats(); st.Failed != 0 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestKafkaConfigErrors(t *testing.T) {
	for _, cfg := range []KafkaConfig{{Topic: "t"}, {Brokers: []string{"x:1"}}, {Brokers: []string{"x:1"}, Topic: "t", Key: "pod"}} {
		if _, err := NewKafkaSink(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}
