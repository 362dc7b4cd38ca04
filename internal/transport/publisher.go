package transport

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config configures a Publisher.
type Config struct {
	// URL is the NATS server, or a comma-separated list.
	URL string
	// SubjectPrefix starts every subject ("vigil").
	SubjectPrefix string
	// Node is this agent's node name.
	Node string
	// QueueSize bounds the messages waiting for the sender (8192).
	QueueSize int
	// SpoolDir keeps unsent messages on disk; "" keeps none (they are
	// dropped and counted).
	SpoolDir      string
	SpoolMaxBytes int64
	// Timeout bounds connecting and each acknowledgement (5s).
	Timeout time.Duration
	// HeartbeatInterval is how often a heartbeat is sent (10s); Counters
	// fills its counters.
	HeartbeatInterval time.Duration
	Counters          func() map[string]uint64
	Version           string
	// Options add authentication and TLS (see ConnectOptions).
	Options []nats.Option
	// OnSpoolDrop is called, on the sender's goroutine, with how many
	// spooled messages were just dropped for space; the agent alerts.
	OnSpoolDrop func(dropped, total uint64)
	Log         *slog.Logger
}

// Stats are a Publisher's counters.
type Stats struct {
	Queued    int    // waiting in memory
	Dropped   uint64 // refused because the queue was full or closed
	Sent      uint64 // acknowledged by JetStream
	Failures  uint64 // publishes that failed (the messages were spooled)
	Spool     SpoolStats
	Connected bool
}

// batchSize is how many messages one round publishes before waiting for
// their acknowledgements.
const batchSize = 256

type item struct {
	kind    Kind
	payload any
}

// Publisher sends envelopes to JetStream in order, spooling what it
// cannot send. Publish is safe for concurrent use and never blocks.
type Publisher struct {
	cfg      Config
	instance string
	started  time.Time
	bootID   string
	seq      atomic.Uint64
	hbSeq    uint64

	queue chan item
	mu    sync.RWMutex // Publish against Close
	done  bool

	nc    *nats.Conn
	js    jetstream.JetStream
	spool *Spool // nil without a spool directory

	dropped, sent, failures atomic.Uint64
	spoolDropped            uint64 // seen so far, to report increments

	stop     chan struct{}
	finished chan struct{}
	log      *slog.Logger
}

// Start connects (in the background: a NATS server that is down is
// retried) and starts the sender.
func Start(cfg Config) (*Publisher, error) {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 8192
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 10 * time.Second
	}
	if cfg.SubjectPrefix == "" {
		cfg.SubjectPrefix = "vigil"
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Node == "" {
		return nil, errors.New("transport: no node name")
	}
	p := &Publisher{cfg: cfg, instance: newInstanceID(), started: time.Now().UTC(), bootID: readBootID(),
		queue: make(chan item, cfg.QueueSize), stop: make(chan struct{}), finished: make(chan struct{}), log: cfg.Log}
	if cfg.SpoolDir != "" {
		sp, err := OpenSpool(cfg.SpoolDir, cfg.SpoolMaxBytes)
		if err != nil {
			return nil, fmt.Errorf("transport: %w", err)
		}
		p.spool = sp
		if n := sp.Len(); n > 0 {
			p.log.Info("transport: messages left in the spool by a previous run will be sent", "messages", n)
		}
	}
	opts := append([]nats.Option{
		nats.Name("vigil-agent " + cfg.Node),
		nats.Timeout(cfg.Timeout),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		// No client-side buffer while disconnected: a publish must fail so
		// that the message goes to the spool, which survives a restart.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			p.log.Warn("transport: disconnected from NATS; spooling", "error", fmt.Sprint(err))
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			p.log.Info("transport: reconnected to NATS", "server", nc.ConnectedUrlRedacted())
		}),
	}, cfg.Options...)
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("transport: %w", err), p.closeSpool())
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, errors.Join(fmt.Errorf("transport: %w", err), p.closeSpool())
	}
	p.nc, p.js = nc, js
	go p.run()
	return p, nil
}

// Instance is this process's agent id, in every envelope.
func (p *Publisher) Instance() string { return p.instance }

// Publish queues a payload of kind for sending, without blocking; it is
// encoded as JSON on the sender's goroutine, so payload must not change
// afterwards. It returns false, and counts a drop, when the queue is full
// or closed.
func (p *Publisher) Publish(kind Kind, payload any) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.done {
		p.dropped.Add(1)
		return false
	}
	select {
	case p.queue <- item{kind: kind, payload: payload}:
		return true
	default:
		p.dropped.Add(1)
		return false
	}
}

// Stats returns the counters.
func (p *Publisher) Stats() Stats {
	st := Stats{Queued: len(p.queue), Dropped: p.dropped.Load(), Sent: p.sent.Load(), Failures: p.failures.Load(),
		Connected: p.nc.IsConnected()}
	if p.spool != nil {
		st.Spool = p.spool.Stats()
	}
	return st
}

// Close stops accepting messages, sends what is queued (spooling what
// cannot be sent before ctx ends) and disconnects.
func (p *Publisher) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.done {
		p.done = true
		close(p.stop)
	}
	p.mu.Unlock()
	select {
	case <-p.finished:
	case <-ctx.Done():
		<-p.finished
	}
	p.nc.Close()
	return p.closeSpool()
}

func (p *Publisher) closeSpool() error {
	if p.spool != nil {
		return p.spool.Close()
	}
	return nil
}

// run is the sender: it takes what is queued in batches, and while the
// spool holds anything, appends to it and drains it from the head, so
// that messages leave in the order they were made.
func (p *Publisher) run() {
	defer close(p.finished)
	hb := time.NewTicker(p.cfg.HeartbeatInterval)
	defer hb.Stop()
	retry := time.NewTicker(time.Second)
	defer retry.Stop()
	p.heartbeat()
	for {
		select {
		case it := <-p.queue:
			p.handle(p.collect(it))
		case <-hb.C:
			p.heartbeat()
		case <-retry.C:
			p.drain()
		case <-p.stop:
			p.shutdown()
			return
		}
	}
}

// collect takes it and whatever else is queued, up to a batch.
func (p *Publisher) collect(it item) [][]byte {
	batch := make([][]byte, 0, 16)
	for {
		if b, err := p.encode(it.kind, it.payload); err == nil {
			batch = append(batch, b)
		} else {
			p.log.Error("transport: cannot encode a message; dropped", "kind", string(it.kind), "error", err.Error())
			p.dropped.Add(1)
		}
		if len(batch) >= batchSize {
			return batch
		}
		select {
		case it = <-p.queue:
		default:
			return batch
		}
	}
}

func (p *Publisher) encode(kind Kind, payload any) ([]byte, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	e := Envelope{V: SchemaVersion, ID: p.instance + "-" + strconv.FormatUint(p.seq.Add(1), 10), Node: p.cfg.Node,
		Kind: kind, Agent: p.instance, Time: time.Now().UTC(), Payload: raw}
	b, err := json.Marshal(&e)
	if err == nil && len(b) > MaxMessageBytes {
		err = fmt.Errorf("%d bytes, over the %d-byte limit", len(b), MaxMessageBytes)
	}
	return b, err
}

// handle sends a batch directly when nothing is spooled, else appends it
// to the spool and drains.
func (p *Publisher) handle(batch [][]byte) {
	if p.spool != nil && p.spool.Len() > 0 {
		p.toSpool(batch)
		p.drain()
		return
	}
	if n := p.send(batch); n < len(batch) {
		p.toSpool(batch[n:])
	}
}

// send publishes msgs asynchronously and waits for their
// acknowledgements; it returns how many from the start were acknowledged
// (a later one acknowledged after a failure is sent again: harmless, by
// its message id).
func (p *Publisher) send(msgs [][]byte) int {
	if !p.nc.IsConnected() {
		return 0
	}
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	for _, b := range msgs {
		e := struct {
			ID   string `json:"id"`
			Kind Kind   `json:"kind"`
		}{}
		if err := json.Unmarshal(b, &e); err != nil {
			// Only this process encodes envelopes: a bug, not the
			// network. It is still sent, so that nothing is lost.
			p.log.Warn("transport: an envelope without a readable id and kind", "error", err.Error())
		}
		m := nats.NewMsg(Subject(p.cfg.SubjectPrefix, e.Kind, p.cfg.Node))
		m.Data = b
		f, err := p.js.PublishMsgAsync(m, jetstream.WithMsgID(e.ID))
		if err != nil {
			break
		}
		futures = append(futures, f)
	}
	timeout := time.NewTimer(p.cfg.Timeout)
	defer timeout.Stop()
	ok := 0
	for _, f := range futures {
		select {
		case <-f.Ok():
			ok++
			continue
		case err := <-f.Err():
			p.noteFailure(err)
		case <-timeout.C:
			p.noteFailure(errors.New("no acknowledgement in time"))
		}
		break
	}
	p.sent.Add(uint64(ok))
	return ok
}

func (p *Publisher) noteFailure(err error) {
	if p.failures.Add(1)%100 == 1 {
		p.log.Warn("transport: publish failed; spooling", "error", err.Error())
	}
}

// toSpool keeps msgs for later, or drops and counts them without a spool.
func (p *Publisher) toSpool(msgs [][]byte) {
	if p.spool == nil {
		p.dropped.Add(uint64(len(msgs)))
		return
	}
	dropped, err := p.spool.Append(msgs)
	if err != nil {
		p.log.Error("transport: spool write failed; messages dropped", "messages", len(msgs), "error", err.Error())
		p.dropped.Add(uint64(len(msgs)))
	}
	if dropped > 0 {
		total := p.spool.Stats().Dropped
		p.log.Warn("transport: spool full; oldest messages dropped", "dropped", dropped, "total_dropped", total)
		if p.cfg.OnSpoolDrop != nil {
			p.cfg.OnSpoolDrop(uint64(dropped), total)
		}
	}
}

// drain sends spooled messages from the head while NATS takes them.
func (p *Publisher) drain() {
	if p.spool == nil {
		return
	}
	for p.spool.Len() > 0 && p.nc.IsConnected() {
		msgs, err := p.spool.Peek(batchSize)
		if err != nil {
			p.log.Error("transport: spool read failed", "error", err.Error())
			return
		}
		if len(msgs) == 0 {
			return
		}
		n := p.send(msgs)
		p.spool.Commit(msgs[:n])
		if n < len(msgs) {
			return
		}
		select {
		case <-p.stop:
			return // shutting down: what is left stays spooled
		default:
		}
	}
}

// heartbeat sends one heartbeat directly, never spooled: a late heartbeat
// says nothing about now.
func (p *Publisher) heartbeat() {
	p.hbSeq++
	counters := map[string]uint64{}
	if p.cfg.Counters != nil {
		for k, v := range p.cfg.Counters() {
			counters[k] = v
		}
	}
	st := p.Stats()
	counters[CounterTransportDropped] = st.Dropped
	counters[CounterSent] = st.Sent
	counters[CounterPublishErrors] = st.Failures
	counters[CounterSpooled] = uint64(st.Spool.Records)
	counters[CounterSpoolBytes] = uint64(st.Spool.Bytes)
	counters[CounterSpoolDropped] = st.Spool.Dropped
	b, err := p.encode(KindHeartbeat, Heartbeat{Started: p.started, BootID: p.bootID, Version: p.cfg.Version,
		IntervalMS: p.cfg.HeartbeatInterval.Milliseconds(), Seq: p.hbSeq, Counters: counters})
	if err != nil || !p.nc.IsConnected() {
		return
	}
	p.send([][]byte{b})
}

// shutdown sends what is queued; what cannot be sent is spooled.
func (p *Publisher) shutdown() {
	for {
		select {
		case it := <-p.queue:
			p.handle(p.collect(it))
		default:
			return
		}
	}
}

func newInstanceID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// readBootID is the kernel's boot id, the same in every namespace.
func readBootID() string {
	b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(b))
}
