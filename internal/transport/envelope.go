package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SchemaVersion is the envelope schema this build writes and accepts.
const SchemaVersion = 1

// MaxMessageBytes bounds an encoded envelope. The server rejects larger
// ones; NATS's own default max_payload is 1 MiB.
const MaxMessageBytes = 1 << 20

// Kind says what an envelope's payload is.
type Kind string

// The kinds of message. Phase 2 adds flows, inventories and baseline
// updates as further kinds; a server that does not know a kind rejects it.
const (
	KindAlert     Kind = "alert"
	KindHeartbeat Kind = "heartbeat"
)

// Envelope is one message from an agent.
type Envelope struct {
	// V is the schema version, SchemaVersion.
	V int `json:"v"`
	// ID is unique per message: "<agent instance>-<sequence>".
	ID string `json:"id"`
	// Node is the agent's node name (config host.hostname / NODE_NAME).
	Node string `json:"node"`
	Kind Kind   `json:"kind"`
	// Agent identifies the agent process that made the message: it
	// changes when the agent restarts.
	Agent string `json:"agent"`
	// Time is when the agent made the message.
	Time    time.Time       `json:"time"`
	Payload json.RawMessage `json:"payload"`
}

// Heartbeat is the payload of a KindHeartbeat message.
type Heartbeat struct {
	// Started is when the agent process started.
	Started time.Time `json:"started"`
	// BootID is the kernel's boot id: it tells a node reboot from an
	// agent restart.
	BootID  string `json:"boot_id"`
	Version string `json:"version"`
	// IntervalMS is the agent's heartbeat interval, by which the server
	// judges it silent.
	IntervalMS int64 `json:"interval_ms"`
	// Seq counts this agent process's heartbeats from 1.
	Seq uint64 `json:"seq"`
	// Counters are cumulative since Started, by the names below.
	Counters map[string]uint64 `json:"counters"`
}

// Heartbeat counter names.
const (
	CounterKernelEvents     = "kernel_events"      // events the sensor read
	CounterKernelDrops      = "kernel_drops"       // events the kernel lost
	CounterAlerts           = "alerts"             // alerts emitted
	CounterAlertsDropped    = "alerts_dropped"     // alerts an output could not queue
	CounterTransportDropped = "transport_dropped"  // messages the transport queue refused
	CounterSpoolDropped     = "spool_dropped"      // spooled messages dropped for space
	CounterSpooled          = "spooled"            // messages waiting in the spool
	CounterSent             = "transport_sent"     // messages NATS acknowledged
	CounterSpoolBytes       = "spool_bytes"        // bytes in the spool
	CounterPublishErrors    = "transport_failures" // failed publishes (then spooled)
)

// Subject is where a message of kind from node goes.
func Subject(prefix string, kind Kind, node string) string {
	if kind == KindHeartbeat {
		return prefix + ".heartbeat." + NodeToken(node)
	}
	return prefix + ".agent." + string(kind) + "." + NodeToken(node)
}

// StreamSubjects are the subjects of the data stream and the heartbeat
// stream.
func StreamSubjects(prefix string) (data, heartbeats string) {
	return prefix + ".agent.*.*", prefix + ".heartbeat.*"
}

// NodeToken makes a node name one subject token: '.', '*', '>' and
// white space become '_'. Node names with dots (FQDNs) stay whole in the
// envelope.
func NodeToken(node string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '*' || r == '>' || r <= ' ' || r == 0x7f {
			return '_'
		}
		return r
	}, node)
}

// Limits on envelope fields.
const (
	maxNodeLen = 253 // a DNS name
	maxIDLen   = 128
)

// ErrSchema marks an envelope of another schema version.
var ErrSchema = errors.New("unsupported schema version")

// Reject is why a message was refused; Reason is a short label for
// metrics and logs.
type Reject struct {
	Reason string
	Err    error
}

func (r *Reject) Error() string { return r.Reason + ": " + r.Err.Error() }
func (r *Reject) Unwrap() error { return r.Err }

func reject(reason, format string, args ...any) *Reject {
	return &Reject{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// Decode parses and checks one message received on subject. It refuses,
// with a *Reject, anything oversized, malformed, of another schema
// version, with a missing or oversized field, or whose node or kind do not
// match its subject (so that NATS permissions on subjects also bind what a
// message may claim).
func Decode(data []byte, subject, prefix string) (*Envelope, error) {
	if len(data) > MaxMessageBytes {
		return nil, reject("oversized", "%d bytes, at most %d", len(data), MaxMessageBytes)
	}
	var probe struct {
		V *int `json:"v"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, reject("malformed", "%v", err)
	}
	if probe.V == nil || *probe.V != SchemaVersion {
		v := "none"
		if probe.V != nil {
			v = fmt.Sprint(*probe.V)
		}
		return nil, &Reject{Reason: "schema_version", Err: fmt.Errorf("%w %s (want %d)", ErrSchema, v, SchemaVersion)}
	}
	var e Envelope
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return nil, reject("malformed", "%v", err)
	}
	if dec.More() {
		return nil, reject("malformed", "data after the envelope")
	}
	switch {
	case e.ID == "" || len(e.ID) > maxIDLen:
		return nil, reject("bad_id", "id %q: want 1 to %d bytes", e.ID, maxIDLen)
	case e.Node == "" || len(e.Node) > maxNodeLen || strings.ContainsFunc(e.Node, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return nil, reject("bad_node", "node %q: want 1 to %d printable bytes", e.Node, maxNodeLen)
	case e.Agent == "" || len(e.Agent) > maxIDLen:
		return nil, reject("bad_agent", "agent %q: want 1 to %d bytes", e.Agent, maxIDLen)
	case e.Time.IsZero():
		return nil, reject("bad_time", "no time")
	case len(e.Payload) == 0 || bytes.Equal(e.Payload, []byte("null")):
		return nil, reject("no_payload", "no payload")
	}
	if want := Subject(prefix, e.Kind, e.Node); subject != want {
		return nil, reject("subject_mismatch", "a %s message from node %q arrived on %s, want %s", e.Kind, e.Node, subject, want)
	}
	return &e, nil
}
