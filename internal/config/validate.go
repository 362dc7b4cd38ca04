package config

import (
	"errors"
	"fmt"
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
		if o.Stdout.Format != "json" && o.Stdout.Format != "text" {
			bad("outputs.stdout.format", "%q: want json or text", o.Stdout.Format)
		}
	}
	if o.File.Enabled {
		queue("file", o.File.Queue)
		need("outputs.file.path", o.File.Path)
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
	}
	if o.HTTP.Enabled {
		queue("http", o.HTTP.Queue)
		need("outputs.http.url", o.HTTP.URL)
	}
	if o.NATS.Enabled {
		queue("nats", o.NATS.Queue)
		need("outputs.nats.url", o.NATS.URL)
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
	}
	c.Enforcement.validate(bad)
	c.VulnWatch.validate(bad)
	c.Kubernetes.validate(bad)
	if err := c.Baselines.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
