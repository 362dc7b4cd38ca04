package config

import (
	"strings"
	"time"
)

// Transport sends this agent's alerts, heartbeats and (later) flows,
// inventories and baseline updates to the central service (`vigil server`)
// over NATS JetStream. docs/deploy.md describes the subjects and the
// spool.
type Transport struct {
	// URL is the NATS server, or a comma-separated list; empty turns the
	// transport off. `vigil run --server` sets it.
	URL string `yaml:"url"`
	// SubjectPrefix starts every subject: <prefix>.agent.<kind>.<node> and
	// <prefix>.heartbeat.<node>. The server must use the same.
	SubjectPrefix string `yaml:"subject_prefix"`
	// QueueSize bounds the messages waiting in memory for the sender; more
	// are dropped and counted, so that the event path never waits.
	QueueSize int `yaml:"queue_size"`
	// Spool keeps what cannot be sent while NATS is unreachable.
	Spool Spool `yaml:"spool"`
	// HeartbeatInterval is how often the agent reports that it is alive,
	// with its counters; the server alerts after two missed.
	HeartbeatInterval Duration `yaml:"heartbeat_interval"`
	// Timeout bounds connecting and each publish's acknowledgement.
	Timeout Duration `yaml:"timeout"`
	// Auth is how the agent authenticates to NATS.
	Auth NATSAuth `yaml:"auth"`
	TLS  TLS      `yaml:"tls"`
}

// Spool is the on-disk queue of messages NATS has not acknowledged.
type Spool struct {
	// Dir holds the spool's segment files; empty keeps nothing on disk
	// (messages that cannot be sent are dropped and counted).
	Dir string `yaml:"dir"`
	// MaxBytes bounds the spool; past it the oldest messages are dropped,
	// counted, and an alert says so.
	MaxBytes int64 `yaml:"max_bytes"`
}

// NATSAuth holds one way of authenticating to NATS. Secrets are better
// given through VIGIL_TRANSPORT_AUTH_* variables from a Kubernetes Secret,
// or files, than written into the configuration file.
type NATSAuth struct {
	Token     string `yaml:"token"`
	User      string `yaml:"user"`
	Password  string `yaml:"password"`
	CredsFile string `yaml:"creds_file"` // a JWT and NKey seed, as nsc writes it
	NKeyFile  string `yaml:"nkey_file"`  // an NKey seed file
}

func defaultTransport() Transport {
	return Transport{SubjectPrefix: "vigil", QueueSize: 8192,
		Spool:             Spool{Dir: "/var/lib/vigil/spool", MaxBytes: 256 << 20},
		HeartbeatInterval: Duration(10 * time.Second), Timeout: Duration(5 * time.Second)}
}

// Enabled reports whether the agent sends to a central service.
func (t Transport) Enabled() bool { return strings.TrimSpace(t.URL) != "" }

func (t Transport) validate(bad func(key, format string, args ...any)) {
	if !t.Enabled() {
		return
	}
	if t.SubjectPrefix == "" || strings.ContainsAny(t.SubjectPrefix, " *>") {
		bad("transport.subject_prefix", "%q: want NATS subject tokens without spaces or wildcards", t.SubjectPrefix)
	}
	if t.QueueSize < 1 {
		bad("transport.queue_size", "must be at least 1")
	}
	if t.Spool.Dir != "" && t.Spool.MaxBytes < 1<<20 {
		bad("transport.spool.max_bytes", "%d: want at least 1 MiB", t.Spool.MaxBytes)
	}
	if t.HeartbeatInterval < Duration(time.Second) {
		bad("transport.heartbeat_interval", "want at least 1s")
	}
	if t.Timeout <= 0 {
		bad("transport.timeout", "must be positive")
	}
	n := 0
	a := t.Auth
	for _, set := range []bool{a.Token != "", a.User != "" || a.Password != "", a.CredsFile != "", a.NKeyFile != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		bad("transport.auth", "give one of token, user and password, creds_file or nkey_file")
	}
	if (a.User == "") != (a.Password == "") {
		bad("transport.auth", "user and password go together")
	}
}
