package outputs

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/vigilsec/vigil/internal/alert"
)

// Kafka record keys: alerts with the same key stay in order on one
// partition.
const (
	KeyHostname    = "hostname"
	KeyContainerID = "container_id"
)

// KafkaConfig configures a KafkaSink.
type KafkaConfig struct {
	Brokers []string
	Topic   string
	// Key is KeyHostname (default) or KeyContainerID.
	Key string
	// Timeout bounds each produce, the client's own retries included;
	// <= 0 means 10s.
	Timeout time.Duration
	TLS     TLSConfig
	// JSON chooses the properties of the record value.
	JSON alert.JSONOptions
	// SASL authenticates to the brokers; its zero value is none.
	SASL SASLConfig
}

// SASLConfig is Kafka's SASL authentication.
type SASLConfig struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty is none.
	Mechanism          string
	Username, Password string
}

func (c SASLConfig) mechanism() (sasl.Mechanism, error) {
	switch c.Mechanism {
	case "":
		return nil, nil
	case "PLAIN":
		return plain.Auth{User: c.Username, Pass: c.Password}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: c.Username, Pass: c.Password}.AsSha256Mechanism(), nil
	case "SCRAM-SHA-512":
		return scram.Auth{User: c.Username, Pass: c.Password}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("sasl mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", c.Mechanism)
}

// KafkaSink produces each alert as a JSON record and waits for the
// brokers' acknowledgement (all in-sync replicas). A topic with
// placeholders (see ExpandTemplate) names one topic per alert, e.g.
// falcosidekick's falco.<priority>.<rule>.
type KafkaSink struct {
	cfg    KafkaConfig
	opts   []kgo.Opt
	client *kgo.Client
}

// NewKafkaSink checks cfg and creates the client; brokers are contacted on
// the first Send.
func NewKafkaSink(cfg KafkaConfig) (*KafkaSink, error) {
	if len(cfg.Brokers) == 0 || cfg.Topic == "" {
		return nil, fmt.Errorf("kafka output: brokers and topic are required")
	}
	switch cfg.Key {
	case "":
		cfg.Key = KeyHostname
	case KeyHostname, KeyContainerID:
	default:
		return nil, fmt.Errorf("kafka output: key %q: want %s or %s", cfg.Key, KeyHostname, KeyContainerID)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.RecordDeliveryTimeout(cfg.Timeout),
		kgo.ProducerLinger(0),
		// Delivery is at least once: the queue retries what the client
		// gave up on. Idempotent writes would pin producer state to one
		// broker incarnation and fail after a broker loses it.
		kgo.DisableIdempotentWrite(),
		kgo.RequiredAcks(kgo.AllISRAcks()),
	}
	tc, err := cfg.TLS.Build()
	if err != nil {
		return nil, fmt.Errorf("kafka output: %w", err)
	}
	if tc != nil {
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	mech, err := cfg.SASL.mechanism()
	if err != nil {
		return nil, fmt.Errorf("kafka output: %w", err)
	}
	if mech != nil {
		opts = append(opts, kgo.SASL(mech))
	}
	s := &KafkaSink{cfg: cfg, opts: opts}
	if s.client, err = kgo.NewClient(opts...); err != nil {
		return nil, fmt.Errorf("kafka output: %w", err)
	}
	return s, nil
}

// Send produces the alert and waits for its acknowledgement.
func (s *KafkaSink) Send(ctx context.Context, a *alert.Alert) error {
	val := a.AppendJSON(nil, s.cfg.JSON)
	var err error
	key := a.Hostname
	if s.cfg.Key == KeyContainerID {
		key = a.Context.Identity.ContainerID
	}
	if s.client == nil {
		if s.client, err = kgo.NewClient(s.opts...); err != nil {
			return fmt.Errorf("kafka output: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	rec := &kgo.Record{Key: []byte(key), Value: val}
	if IsTemplate(s.cfg.Topic) {
		rec.Topic = ExpandTemplate(s.cfg.Topic, a)
	}
	if err := s.client.ProduceSync(ctx, rec).FirstErr(); err != nil {
		// Start over with a new client: one that saw the brokers go away
		// may hold metadata (epochs, topic ids) a restarted cluster no
		// longer matches, and never recover.
		s.client.Close()
		s.client = nil
		return fmt.Errorf("kafka output: %w", err)
	}
	return nil
}

// Close closes the client.
func (s *KafkaSink) Close() error {
	if s.client != nil {
		s.client.Close()
	}
	return nil
}
