package config

import (
	"errors"
	"fmt"

	"github.com/vigilsec/vigil/internal/alert"
)

// MaxDropAlertSamples bounds kernel_drop_alert.window / interval: the
// counters are sampled every interval and kept for one window.
const MaxDropAlertSamples = 3600

// Validate checks values the types cannot: ranges, enumerations, and the
// settings an enabled output needs. It reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.RingBufferSize <= 0 || c.RingBufferSize&(c.RingBufferSize-1) != 0 {
		bad("ring_buffer_size", "%d is not a positive power of two", c.RingBufferSize)
	}
	if _, ok := alert.Severity(c.Priority); !ok {
		bad("priority", "%q: want emergency, alert, critical, error, warning, notice, informational or debug", c.Priority)
	}
	if c.RuleMatching != "all" && c.RuleMatching != "first" {
		bad("rule_matching", "%q: want all or first", c.RuleMatching)
	}
	if c.Shards < 0 {
		bad("shards", "must not be negative")
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
	if c.Reload.Debounce < 0 {
		bad("reload.debounce", "must not be negative")
	}
	if d := c.KernelDropAlert; d.Enabled {
		if d.Ratio <= 0 || d.Ratio > 1 {
			bad("kernel_drop_alert.ratio", "%g is not in (0, 1]", d.Ratio)
		}
		if d.Interval <= 0 || d.Window < d.Interval {
			bad("kernel_drop_alert", "want interval > 0 and window >= interval")
		} else if d.Window/d.Interval > MaxDropAlertSamples {
			bad("kernel_drop_alert", "window / interval is %d; at most %d samples are kept", d.Window/d.Interval, MaxDropAlertSamples)
		}
	}
	if rl := c.RateLimit; rl.Enabled {
		if rl.Rate < 0 || rl.Burst < 1 || rl.Window <= 0 {
			bad("rate_limit", "want rate >= 0, burst >= 1 and a positive window")
		}
	}
	o := &c.Outputs
	queue := func(name string, q Queue) {
		if q.QueueSize < 1 || q.MaxRetries < 0 || q.InitialBackoff <= 0 || q.MaxBackoff < q.InitialBackoff {
			bad("outputs."+name, "want queue_size >= 1, max_retries >= 0, initial_backoff > 0 and max_backoff >= initial_backoff")
		}
	}
	need := func(key, v string) {
		if v == "" {
			bad(key, "required when the output is enabled")
		}
	}
	if o.Stdout.Enabled {
		queue("stdout", o.Stdout.Queue)
		if !validFormat(o.Stdout.Format) {
			bad("outputs.stdout.format", "%q: want json, text or falco", o.Stdout.Format)
		}
	}
	if o.File.Enabled {
		queue("file", o.File.Queue)
		need("outputs.file.path", o.File.Path)
		if !validFormat(o.File.Format) {
			bad("outputs.file.format", "%q: want json, text or falco", o.File.Format)
		}
		if o.File.MaxSizeMB < 0 || o.File.MaxFiles < 1 {
			bad("outputs.file", "want max_size_mb >= 0 and max_files >= 1")
		}
	}
	if o.Syslog.Enabled {
		queue("syslog", o.Syslog.Queue)
		need("outputs.syslog.address", o.Syslog.Address)
		switch o.Syslog.Network {
		case "unixgram", "unix", "udp", "tcp":
		default:
			bad("outputs.syslog.network", "%q: want unixgram, unix, udp or tcp", o.Syslog.Network)
		}
		if o.Syslog.Facility < 0 || o.Syslog.Facility > 23 {
			bad("outputs.syslog.facility", "%d is not in 0-23", o.Syslog.Facility)
		}
	}
	if o.Program.Enabled {
		queue("program", o.Program.Queue)
		need("outputs.program.command", o.Program.Command)
		if !validFormat(o.Program.Format) {
			bad("outputs.program.format", "%q: want json, text or falco", o.Program.Format)
		}
		if !o.Program.KeepAlive && (o.Program.MaxConcurrent < 1 || o.Program.Timeout <= 0) {
			bad("outputs.program", "want max_concurrent >= 1 and a positive timeout")
		}
	}
	if o.HTTP.Enabled {
		queue("http", o.HTTP.Queue)
		need("outputs.http.url", o.HTTP.URL)
		if o.HTTP.Compression != "none" && o.HTTP.Compression != "gzip" {
			bad("outputs.http.compression", "%q: want none or gzip", o.HTTP.Compression)
		}
	}
	if o.NATS.Enabled {
		queue("nats", o.NATS.Queue)
		need("outputs.nats.url", o.NATS.URL)
		n := o.NATS
		ways := 0
		for _, set := range []bool{n.Token != "" || n.TokenFile != "", n.Username != "" || n.Password != "" || n.PasswordFile != "",
			n.CredentialsFile != "", n.NKeySeedFile != ""} {
			if set {
				ways++
			}
		}
		if ways > 1 {
			bad("outputs.nats", "set one way to authenticate: token, username and password, credentials_file or nkey_seed_file")
		}
		if n.Token != "" && n.TokenFile != "" || n.Password != "" && n.PasswordFile != "" {
			bad("outputs.nats", "a secret and its file are both set")
		}
		if (n.Password != "" || n.PasswordFile != "") && n.Username == "" {
			bad("outputs.nats.username", "required with a password")
		}
	}
	if o.Kafka.Enabled {
		queue("kafka", o.Kafka.Queue)
		need("outputs.kafka.topic", o.Kafka.Topic)
		if len(o.Kafka.Brokers) == 0 {
			bad("outputs.kafka.brokers", "required when the output is enabled")
		}
		if o.Kafka.Key != "hostname" && o.Kafka.Key != "container_id" {
			bad("outputs.kafka.key", "%q: want hostname or container_id", o.Kafka.Key)
		}
		switch s := o.Kafka.SASL; s.Mechanism {
		case "":
		case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
			if s.Username == "" || (s.Password == "") == (s.PasswordFile == "") {
				bad("outputs.kafka.sasl", "want a username and one of password or password_file")
			}
		default:
			bad("outputs.kafka.sasl.mechanism", "%q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", s.Mechanism)
		}
	}
	c.Enforcement.validate(bad)
	c.VulnWatch.validate(bad)
	c.Kubernetes.validate(bad)
	c.Host.validate(bad)
	c.Transport.validate(bad)
	if err := c.Baselines.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// validFormat says whether f names an alert format of line outputs.
func validFormat(f string) bool { return f == "json" || f == "text" || f == "falco" }
