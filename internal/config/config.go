// Package config reads Vigil's YAML configuration file. Keys are checked
// strictly: an unknown or misplaced key is an error naming its file, line
// and column, because a typo in a security tool's config silently
// disabling an output is worse than refusing to start. Environment
// variables (VIGIL_*) override the file, and command-line flags override
// both.
package config

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/baseline"
)

// DefaultPath is read when no --config is given; it may be absent.
const DefaultPath = "/etc/vigil/vigil.yaml"

// Config is the whole configuration. docs/config.md documents every key.
type Config struct {
	Rules        []string `yaml:"rules"`
	WithDefaults bool     `yaml:"with_defaults"`
	// ExperimentalRules adds the embedded experimental rules to the defaults.
	ExperimentalRules bool `yaml:"experimental_rules"`
	Strict            bool `yaml:"strict"`
	// Priority is the least severe priority that runs: rules below it are
	// not loaded, and the agent's own alerts below it are not emitted.
	Priority string `yaml:"priority"`
	// RuleMatching is all (every matching rule alerts) or first (the
	// first matching rule in load order alerts, as Falco's default).
	RuleMatching    string          `yaml:"rule_matching"`
	RingBufferSize  int             `yaml:"ring_buffer_size"`
	Shards          int             `yaml:"shards"`
	MetricsAddr     string          `yaml:"metrics_addr"`
	LogFormat       string          `yaml:"log_format"`
	LogLevel        string          `yaml:"log_level"`
	Reload          Reload          `yaml:"reload"`
	KernelDropAlert KernelDropAlert `yaml:"kernel_drop_alert"`
	RateLimit       RateLimit       `yaml:"rate_limit"`
	Outputs         Outputs         `yaml:"outputs"`
	Enforcement     Enforcement     `yaml:"enforcement"`
	VulnWatch       VulnWatch       `yaml:"vuln_watch"`
	Kubernetes      Kubernetes      `yaml:"kubernetes"`
	Host            Host            `yaml:"host"`
	Transport       Transport       `yaml:"transport"`
	// Baselines are the learned baselines (docs/baselines.md).
	Baselines baseline.Config `yaml:"baselines"`
}

// Reload is how the agent notices changed rules and configuration (it
// always reloads on SIGHUP).
type Reload struct {
	Watch    bool     `yaml:"watch"`
	Debounce Duration `yaml:"debounce"`
}

// KernelDropAlert raises an alert when the kernel loses too many events.
type KernelDropAlert struct {
	Enabled  bool     `yaml:"enabled"`
	Ratio    float64  `yaml:"ratio"`
	Window   Duration `yaml:"window"`
	Interval Duration `yaml:"interval"`
}

// RateLimit is the per-rule alert flood control.
type RateLimit struct {
	Enabled      bool     `yaml:"enabled"`
	Rate         float64  `yaml:"rate"`
	Burst        int      `yaml:"burst"`
	PerContainer bool     `yaml:"per_container"`
	Window       Duration `yaml:"window"`
}

// Queue is the queue and retry settings every output has.
type Queue struct {
	QueueSize      int      `yaml:"queue_size"`
	MaxRetries     int      `yaml:"max_retries"`
	InitialBackoff Duration `yaml:"initial_backoff"`
	MaxBackoff     Duration `yaml:"max_backoff"`
}

// Outputs holds the alert encoding every output shares, then one block
// per output kind.
type Outputs struct {
	// JSON chooses the properties of the JSON form (Falco's json_include_*
	// switches).
	JSON JSON `yaml:"json"`
	// TimeFormatISO8601 starts Falco's output property with the UTC date
	// and time instead of the local time of day.
	TimeFormatISO8601 bool `yaml:"time_format_iso_8601"`
	// Buffered makes stdout, file and program (keep_alive) write their
	// lines in batches (Falco's buffered_outputs).
	Buffered bool    `yaml:"buffered"`
	Stdout   Stdout  `yaml:"stdout"`
	File     File    `yaml:"file"`
	Syslog   Syslog  `yaml:"syslog"`
	Program  Program `yaml:"program"`
	HTTP     HTTP    `yaml:"http"`
	NATS     NATS    `yaml:"nats"`
	Kafka    Kafka   `yaml:"kafka"`
}

// JSON is the shape of the JSON form of alerts. The defaults are Falco's,
// plus Vigil's blocks and vigil.* output fields.
type JSON struct {
	IncludeOutputProperty       bool `yaml:"include_output_property"`
	IncludeTagsProperty         bool `yaml:"include_tags_property"`
	IncludeMessageProperty      bool `yaml:"include_message_property"`
	IncludeOutputFieldsProperty bool `yaml:"include_output_fields_property"`
	// IncludeVigilProperties keeps the context and enforcement blocks.
	IncludeVigilProperties bool `yaml:"include_vigil_properties"`
	// VigilOutputFields repeats what matters of those blocks in
	// output_fields as vigil.* fields.
	VigilOutputFields bool `yaml:"vigil_output_fields"`
}

// Stdout writes alerts to standard output.
type Stdout struct {
	Enabled bool   `yaml:"enabled"`
	Format  string `yaml:"format"`
	Queue   `yaml:",inline"`
}

// File appends JSON lines to a file with size-based rotation.
type File struct {
	Enabled   bool   `yaml:"enabled"`
	Path      string `yaml:"path"`
	Format    string `yaml:"format"`
	MaxSizeMB int    `yaml:"max_size_mb"`
	MaxFiles  int    `yaml:"max_files"`
	Queue     `yaml:",inline"`
}

// Syslog sends RFC 5424 messages.
type Syslog struct {
	Enabled  bool   `yaml:"enabled"`
	Network  string `yaml:"network"`
	Address  string `yaml:"address"`
	Facility int    `yaml:"facility"`
	AppName  string `yaml:"app_name"`
	Queue    `yaml:",inline"`
}

// Program pipes alert lines to a command's stdin: one long-running
// program (keep_alive), or one program per alert.
type Program struct {
	Enabled   bool   `yaml:"enabled"`
	Command   string `yaml:"command"`
	Format    string `yaml:"format"`
	KeepAlive bool   `yaml:"keep_alive"`
	// MaxConcurrent and Timeout bound the programs started per alert.
	MaxConcurrent int      `yaml:"max_concurrent"`
	Timeout       Duration `yaml:"timeout"`
	Queue         `yaml:",inline"`
}

// TLS is client TLS for outputs that support it.
type TLS struct {
	// Enabled turns TLS on with the system roots when no other key does
	// (Kafka has no URL scheme to say so; http uses https://).
	Enabled            bool   `yaml:"enabled"`
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// HTTP posts Falco-compatible JSON to a webhook.
type HTTP struct {
	Enabled   bool              `yaml:"enabled"`
	URL       string            `yaml:"url"`
	Headers   map[string]string `yaml:"headers"`
	UserAgent string            `yaml:"user_agent"`
	Timeout   Duration          `yaml:"timeout"`
	// Compression is gzip or none.
	Compression string `yaml:"compression"`
	// Echo writes every response body to standard output.
	Echo  bool `yaml:"echo"`
	TLS   TLS  `yaml:"tls"`
	Queue `yaml:",inline"`
}

// NATS publishes to a subject per priority, or per the subject template.
type NATS struct {
	Enabled       bool   `yaml:"enabled"`
	URL           string `yaml:"url"`
	SubjectPrefix string `yaml:"subject_prefix"`
	// Subject is a template (<priority>, <rule>, <source>, <hostname>);
	// when set it replaces subject_prefix.
	Subject   string   `yaml:"subject"`
	JetStream bool     `yaml:"jetstream"`
	Timeout   Duration `yaml:"timeout"`
	TLS       TLS      `yaml:"tls"`
	// One way to authenticate: a token, a user and password, a
	// credentials file (JWT and NKey seed) or an NKey seed file.
	Token           string `yaml:"token"`
	TokenFile       string `yaml:"token_file"`
	Username        string `yaml:"username"`
	Password        string `yaml:"password"`
	PasswordFile    string `yaml:"password_file"`
	CredentialsFile string `yaml:"credentials_file"`
	NKeySeedFile    string `yaml:"nkey_seed_file"`
	Queue           `yaml:",inline"`
}

// Kafka produces to a topic (a template like NATS's subject), keyed by
// host or container.
type Kafka struct {
	Enabled bool      `yaml:"enabled"`
	Brokers []string  `yaml:"brokers"`
	Topic   string    `yaml:"topic"`
	Key     string    `yaml:"key"`
	Timeout Duration  `yaml:"timeout"`
	TLS     TLS       `yaml:"tls"`
	SASL    KafkaSASL `yaml:"sasl"`
	Queue   `yaml:",inline"`
}

// KafkaSASL authenticates to the brokers.
type KafkaSASL struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty is none.
	Mechanism    string `yaml:"mechanism"`
	Username     string `yaml:"username"`
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
}

// Duration is a time.Duration written as "5s" or "1m30s" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a duration such as 5s")
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("want a duration such as 5s: %q", n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Default returns the configuration used for every key the file and
// environment leave out.
func Default() *Config {
	q := Queue{QueueSize: alert.DefaultQueueLen, MaxRetries: 5, InitialBackoff: Duration(100 * time.Millisecond), MaxBackoff: Duration(10 * time.Second)}
	return &Config{
		Priority:        "debug",
		RuleMatching:    "all",
		RingBufferSize:  8 << 20,
		LogFormat:       "text",
		LogLevel:        "info",
		Reload:          Reload{Watch: true, Debounce: Duration(500 * time.Millisecond)},
		KernelDropAlert: KernelDropAlert{Enabled: true, Ratio: 0.01, Window: Duration(time.Minute), Interval: Duration(10 * time.Second)},
		RateLimit:       RateLimit{Rate: 10, Burst: 100, Window: Duration(time.Minute)},
		Enforcement:     defaultEnforcement(),
		VulnWatch:       defaultVulnWatch(),
		Host:            defaultHost(),
		Transport:       defaultTransport(),
		Baselines:       baseline.Default(),
		Outputs: Outputs{
			JSON: JSON{IncludeOutputProperty: true, IncludeTagsProperty: true, IncludeOutputFieldsProperty: true,
				IncludeVigilProperties: true, VigilOutputFields: true},
			Stdout:  Stdout{Enabled: true, Format: "json", Queue: q},
			File:    File{Path: "/var/log/vigil/alerts.json", Format: "json", MaxSizeMB: 100, MaxFiles: 5, Queue: q},
			Syslog:  Syslog{Network: "unixgram", Address: "/dev/log", Facility: 16, AppName: "vigil", Queue: q},
			Program: Program{Format: "json", KeepAlive: true, MaxConcurrent: 4, Timeout: Duration(30 * time.Second), Queue: q},
			HTTP:    HTTP{UserAgent: "vigil", Timeout: Duration(5 * time.Second), Compression: "none", Queue: q},
			NATS:    NATS{URL: "nats://127.0.0.1:4222", SubjectPrefix: "vigil.alerts", Timeout: Duration(5 * time.Second), Queue: q},
			Kafka:   Kafka{Topic: "vigil-alerts", Key: "hostname", Timeout: Duration(10 * time.Second), Queue: q},
		},
	}
}

// Marshal renders c as YAML, as `vigil config show` prints it.
func (c *Config) Marshal() ([]byte, error) { return yaml.Marshal(c) }
