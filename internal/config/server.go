package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"sort"
	"time"
)

// DefaultServerPath is read by `vigil server` when no --config is given;
// it may be absent.
const DefaultServerPath = "/etc/vigil/server.yaml"

// Server configures `vigil server`, the central service. It is a file of
// its own, read like the agent's: strict keys, VIGIL_* variables over the
// file (database.url is VIGIL_DATABASE_URL), flags over both.
type Server struct {
	NATS     ServerNATS `yaml:"nats"`
	Database Database   `yaml:"database"`
	// RetentionDays is how long alerts are kept, in days; older daily
	// partitions are dropped.
	RetentionDays int       `yaml:"retention_days"`
	API           ServerAPI `yaml:"api"`
	// MetricsAddr serves Prometheus metrics, /healthz and /readyz; empty
	// turns them off.
	MetricsAddr string       `yaml:"metrics_addr"`
	Agents      AgentWatch   `yaml:"agents"`
	Consumer    ConsumerTune `yaml:"consumer"`
	LogFormat   string       `yaml:"log_format"`
	LogLevel    string       `yaml:"log_level"`
}

// ServerNATS is where the server reads the agents' messages.
type ServerNATS struct {
	URL           string `yaml:"url"`
	SubjectPrefix string `yaml:"subject_prefix"`
	// Durable names the consumers every replica shares.
	Durable string   `yaml:"durable"`
	Auth    NATSAuth `yaml:"auth"`
	TLS     TLS      `yaml:"tls"`
	// StreamMaxAge bounds how long unconsumed messages wait in the
	// streams (while every server replica is down).
	StreamMaxAge Duration `yaml:"stream_max_age"`
	// StreamReplicas is the streams' replica count in a NATS cluster.
	StreamReplicas int `yaml:"stream_replicas"`
	// DuplicateWindow is how long JetStream remembers message ids; it
	// should cover an agent's spool replay after a restart.
	DuplicateWindow Duration `yaml:"duplicate_window"`
}

// Database is the PostgreSQL the server writes to.
type Database struct {
	// URL is a PostgreSQL connection string (better:
	// VIGIL_DATABASE_URL from a Secret).
	URL      string `yaml:"url"`
	MaxConns int    `yaml:"max_conns"`
}

// ServerAPI is the read API: alerts and agent states as JSON.
type ServerAPI struct {
	// Addr is where it listens; loopback by default. Anywhere else needs
	// a token and TLS.
	Addr string `yaml:"addr"`
	// TokenFile holds the bearer token clients must send.
	TokenFile string `yaml:"token_file"`
	CertFile  string `yaml:"cert_file"`
	KeyFile   string `yaml:"key_file"`
}

// AgentWatch is how the server judges agents.
type AgentWatch struct {
	// MissedHeartbeats is how many heartbeat intervals may pass without
	// one before the server alerts that the agent went silent.
	MissedHeartbeats int `yaml:"missed_heartbeats"`
	// KernelDropRatio alerts when, between two heartbeats, the kernel
	// lost more than this share of an agent's events.
	KernelDropRatio float64 `yaml:"kernel_drop_ratio"`
	// CheckInterval is how often silence is checked.
	CheckInterval Duration `yaml:"check_interval"`
}

// ConsumerTune sizes what each replica fetches and writes at once.
type ConsumerTune struct {
	Batch           int      `yaml:"batch"`
	AckWait         Duration `yaml:"ack_wait"`
	MaxMessageBytes int      `yaml:"max_message_bytes"`
}

// DefaultServer returns the server's defaults.
func DefaultServer() *Server {
	return &Server{
		NATS: ServerNATS{URL: "nats://127.0.0.1:4222", SubjectPrefix: "vigil", Durable: "vigil-server",
			StreamMaxAge: Duration(7 * 24 * time.Hour), StreamReplicas: 1, DuplicateWindow: Duration(10 * time.Minute)},
		Database:      Database{MaxConns: 8},
		RetentionDays: 30,
		API:           ServerAPI{Addr: "127.0.0.1:8080"},
		Agents:        AgentWatch{MissedHeartbeats: 2, KernelDropRatio: 0.01, CheckInterval: Duration(time.Second)},
		Consumer:      ConsumerTune{Batch: 256, AckWait: Duration(30 * time.Second), MaxMessageBytes: 1 << 20},
		LogFormat:     "text",
		LogLevel:      "info",
	}
}

// LoadServer reads path over the defaults, then VIGIL_* variables.
func LoadServer(path string, required bool, environ []string) (*Server, error) {
	c := DefaultServer()
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		doc := reflect.ValueOf(c).Elem()
		if err := parseInto(doc, data, path); err != nil {
			return nil, err
		}
	case errors.Is(err, os.ErrNotExist) && !required:
	default:
		return nil, err
	}
	if err := applyEnv(reflect.ValueOf(c).Elem(), environ); err != nil {
		return nil, err
	}
	return c, c.Validate()
}

// ServerKeys returns every server key's dotted path, sorted.
func ServerKeys() []string {
	var keys []string
	walk(reflect.ValueOf(DefaultServer()).Elem(), "", func(path string, _ reflect.Value) { keys = append(keys, path) })
	sort.Strings(keys)
	return keys
}

// Validate checks the server configuration, reporting every problem.
func (c *Server) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.NATS.URL == "" {
		bad("nats.url", "required")
	}
	if c.NATS.Durable == "" || c.NATS.SubjectPrefix == "" {
		bad("nats", "durable and subject_prefix are required")
	}
	if c.NATS.StreamReplicas < 1 || c.NATS.StreamReplicas > 5 {
		bad("nats.stream_replicas", "%d: want 1 to 5", c.NATS.StreamReplicas)
	}
	if c.Database.URL == "" {
		bad("database.url", "required (or VIGIL_DATABASE_URL)")
	}
	if c.Database.MaxConns < 2 {
		bad("database.max_conns", "want at least 2")
	}
	if c.RetentionDays < 1 {
		bad("retention_days", "want at least 1")
	}
	if c.Agents.MissedHeartbeats < 1 || c.Agents.KernelDropRatio <= 0 || c.Agents.KernelDropRatio > 1 || c.Agents.CheckInterval <= 0 {
		bad("agents", "want missed_heartbeats >= 1, kernel_drop_ratio in (0, 1] and check_interval > 0")
	}
	if c.Consumer.Batch < 1 || c.Consumer.AckWait < Duration(time.Second) || c.Consumer.MaxMessageBytes < 1024 {
		bad("consumer", "want batch >= 1, ack_wait >= 1s and max_message_bytes >= 1024")
	}
	if c.API.Addr != "" {
		host, _, err := net.SplitHostPort(c.API.Addr)
		if err != nil {
			bad("api.addr", "%v", err)
		} else if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && host != "localhost" {
			if c.API.TokenFile == "" || c.API.CertFile == "" || c.API.KeyFile == "" {
				bad("api.addr", "%s is not loopback: token_file, cert_file and key_file are required", c.API.Addr)
			}
		}
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("log_format", "%q: want text or json", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "%q: want debug, info, warn or error", c.LogLevel)
	}
	return errors.Join(errs...)
}
