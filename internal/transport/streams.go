package transport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Stream names.
const (
	DataStream      = "VIGIL_AGENTS"
	HeartbeatStream = "VIGIL_HEARTBEATS"
)

// StreamOptions size the streams.
type StreamOptions struct {
	// MaxAge bounds how long unconsumed data waits.
	MaxAge time.Duration
	// Replicas is the replica count in a NATS cluster.
	Replicas int
	// DuplicateWindow is how long message ids are remembered.
	DuplicateWindow time.Duration
}

// EnsureStreams creates or updates the two streams the server reads. The
// data stream has work-queue retention: a message is removed once a
// server replica acknowledged it, and the replicas share one durable
// consumer, so each message is processed by one of them. The heartbeat
// stream keeps a few recent heartbeats per node, for an hour at most.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, prefix string, o StreamOptions) error {
	if o.Replicas < 1 {
		o.Replicas = 1
	}
	data, hb := StreamSubjects(prefix)
	for _, cfg := range []jetstream.StreamConfig{
		{Name: DataStream, Subjects: []string{data}, Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage,
			MaxAge: o.MaxAge, Replicas: o.Replicas, Duplicates: o.DuplicateWindow, Discard: jetstream.DiscardOld},
		{Name: HeartbeatStream, Subjects: []string{hb}, Retention: jetstream.LimitsPolicy, Storage: jetstream.FileStorage,
			MaxAge: time.Hour, MaxMsgsPerSubject: 16, Replicas: o.Replicas, Duplicates: time.Minute, Discard: jetstream.DiscardOld},
	} {
		if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("stream %s: %w", cfg.Name, err)
		}
	}
	return nil
}

// Consumers creates or finds the durable consumers the server replicas
// share: on the data stream with explicit acknowledgement (a message a
// replica dies holding is redelivered after ackWait), and on the
// heartbeat stream without acknowledgement (a lost heartbeat is replaced
// by the next one, and a replica's death must not hold the others' for
// ackWait).
func Consumers(ctx context.Context, js jetstream.JetStream, durable string, ackWait time.Duration, maxPending int) (data, heartbeats jetstream.Consumer, err error) {
	data, err = js.CreateOrUpdateConsumer(ctx, DataStream, jetstream.ConsumerConfig{Durable: durable,
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: ackWait, MaxAckPending: maxPending, MaxDeliver: -1,
		DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return nil, nil, fmt.Errorf("consumer %s on %s: %w", durable, DataStream, err)
	}
	heartbeats, err = js.CreateOrUpdateConsumer(ctx, HeartbeatStream, jetstream.ConsumerConfig{Durable: durable,
		AckPolicy: jetstream.AckNonePolicy, DeliverPolicy: jetstream.DeliverNewPolicy})
	if errors.Is(err, jetstream.ErrConsumerExists) {
		heartbeats, err = js.Consumer(ctx, HeartbeatStream, durable)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("consumer %s on %s: %w", durable, HeartbeatStream, err)
	}
	return data, heartbeats, nil
}
