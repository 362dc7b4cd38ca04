package outputs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/vigilsec/vigil/internal/config"
)

func queueConfig(q config.Queue) QueueConfig {
	retries := q.MaxRetries
	if retries == 0 {
		retries = -1 // 0 in the file means no retry; QueueConfig's 0 means the default
	}
	return QueueConfig{Size: q.QueueSize, MaxRetries: retries,
		InitialBackoff: time.Duration(q.InitialBackoff), MaxBackoff: time.Duration(q.MaxBackoff)}
}

func tlsConfig(t config.TLS) TLSConfig {
	return TLSConfig{Enabled: t.Enabled, CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile, InsecureSkipVerify: t.InsecureSkipVerify}
}

// Build starts a queue for every enabled output of o, the stdout output
// (and http's echo) writing to stdout, behind one dispatcher; failed
// deliveries are logged to log (nil: not logged). On error it closes
// those already started.
func Build(o config.Outputs, stdout io.Writer, log *slog.Logger) (*Dispatcher, error) {
	var queues []*Queue
	js := JSONOptions(o)
	add := func(name string, q config.Queue, s Sink, err error) error {
		if err != nil {
			return err
		}
		qc := queueConfig(q)
		qc.Log = log
		queues = append(queues, NewQueue(name, s, qc))
		return nil
	}
	warnKeyFiles(o, log)
	var err error
	enc := func(format string) (Encoding, error) {
		f, err := ParseFormat(format)
		return Encoding{Format: f, JSON: js}, err
	}
	if o.Stdout.Enabled {
		e, ferr := enc(o.Stdout.Format)
		s := NewWriterSink(stdout, e)
		if o.Buffered {
			s = NewBufferedWriterSink(stdout, e)
		}
		err = add("stdout", o.Stdout.Queue, s, ferr)
	}
	if c := o.File; c.Enabled && err == nil {
		e, ferr := enc(c.Format)
		var s *FileSink
		if ferr == nil {
			s, ferr = NewFileSink(FileConfig{Path: c.Path, MaxSize: int64(c.MaxSizeMB) << 20, MaxFiles: c.MaxFiles,
				Encoding: e, Buffered: o.Buffered})
		}
		err = add("file", c.Queue, s, ferr)
	}
	if c := o.Syslog; c.Enabled && err == nil {
		s, e := NewSyslogSink(SyslogConfig{Network: c.Network, Address: c.Address, Facility: c.Facility, AppName: c.AppName})
		err = add("syslog", c.Queue, s, e)
	}
	if c := o.Program; c.Enabled && err == nil {
		e, ferr := enc(c.Format)
		var s Sink
		var serr error
		switch {
		case ferr != nil:
		case !c.KeepAlive:
			s, serr = NewEachProgramSink(EachProgramConfig{Command: c.Command, Encoding: e,
				MaxConcurrent: c.MaxConcurrent, Timeout: time.Duration(c.Timeout)})
		case o.Buffered:
			s, serr = NewBufferedProgramSink(c.Command, e)
		default:
			s, serr = NewProgramSink(c.Command, e)
		}
		err = add("program", c.Queue, s, errors.Join(ferr, serr))
	}
	if c := o.HTTP; c.Enabled && err == nil {
		hc := HTTPConfig{URL: c.URL, Headers: c.Headers, UserAgent: c.UserAgent, Timeout: time.Duration(c.Timeout),
			TLS: tlsConfig(c.TLS), JSON: js}
		if c.Compression == "gzip" {
			hc.Compression = CompressionGzip
		}
		if c.Echo {
			hc.Echo = stdout
		}
		s, e := NewHTTPSink(hc)
		err = add("http", c.Queue, s, e)
	}
	if c := o.NATS; c.Enabled && err == nil {
		auth, e := natsAuth(c)
		var s *NATSSink
		if e == nil {
			s, e = NewNATSSink(NATSConfig{URL: c.URL, SubjectPrefix: c.SubjectPrefix, Subject: c.Subject, JetStream: c.JetStream,
				Timeout: time.Duration(c.Timeout), TLS: tlsConfig(c.TLS), JSON: js, Auth: auth})
		}
		err = add("nats", c.Queue, s, e)
	}
	if c := o.Kafka; c.Enabled && err == nil {
		pass, e := secret(c.SASL.Password, c.SASL.PasswordFile)
		var s *KafkaSink
		if e == nil {
			s, e = NewKafkaSink(KafkaConfig{Brokers: c.Brokers, Topic: c.Topic, Key: c.Key,
				Timeout: time.Duration(c.Timeout), TLS: tlsConfig(c.TLS), JSON: js,
				SASL: SASLConfig{Mechanism: c.SASL.Mechanism, Username: c.SASL.Username, Password: pass}})
		}
		if e != nil {
			e = fmt.Errorf("kafka output: %w", e)
		}
		err = add("kafka", c.Queue, s, e)
	}
	d := NewDispatcher(queues...)
	if err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return nil, errors.Join(err, d.Close(ctx))
	}
	return d, nil
}

// LogEnabled logs one line per enabled output with where it sends, without
// secrets (headers are not logged, URL passwords are redacted).
func LogEnabled(log *slog.Logger, o config.Outputs) {
	out := func(name string, enabled bool, args ...any) {
		if enabled {
			log.Info("output enabled", append([]any{"output", name}, args...)...)
		}
	}
	out("stdout", o.Stdout.Enabled, "format", o.Stdout.Format)
	out("file", o.File.Enabled, "path", o.File.Path)
	out("syslog", o.Syslog.Enabled, "network", o.Syslog.Network, "address", o.Syslog.Address)
	out("program", o.Program.Enabled, "command", o.Program.Command)
	out("http", o.HTTP.Enabled, "url", redact(o.HTTP.URL))
	natsSubject := o.NATS.Subject
	if natsSubject == "" {
		natsSubject = o.NATS.SubjectPrefix + ".<priority>"
	}
	out("nats", o.NATS.Enabled, "url", redact(o.NATS.URL), "subject", natsSubject, "jetstream", o.NATS.JetStream)
	out("kafka", o.Kafka.Enabled, "brokers", strings.Join(o.Kafka.Brokers, ","), "topic", o.Kafka.Topic,
		"sasl", o.Kafka.SASL.Mechanism, "tls", o.Kafka.TLS != (config.TLS{}))
}

func redact(raw string) string {
	var parts []string
	for _, s := range strings.Split(raw, ",") {
		if u, err := url.Parse(strings.TrimSpace(s)); err == nil {
			s = u.Redacted()
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

// Check checks what Build would need of o without starting anything: the
// line formats, the TLS files of the outputs that use TLS, and the HTTP
// output's compression.
func Check(o config.Outputs) error {
	var errs []error
	if o.Stdout.Enabled {
		_, err := ParseFormat(o.Stdout.Format)
		errs = append(errs, err)
	}
	if o.File.Enabled {
		_, err := ParseFormat(o.File.Format)
		errs = append(errs, err)
	}
	if o.Program.Enabled {
		_, err := ParseFormat(o.Program.Format)
		errs = append(errs, err)
	}
	for _, t := range []struct {
		name    string
		enabled bool
		tls     config.TLS
	}{{"http", o.HTTP.Enabled, o.HTTP.TLS}, {"nats", o.NATS.Enabled, o.NATS.TLS}, {"kafka", o.Kafka.Enabled, o.Kafka.TLS}} {
		if t.enabled {
			if _, err := tlsConfig(t.tls).Build(); err != nil {
				errs = append(errs, fmt.Errorf("%s output: %w", t.name, err))
			}
		}
	}
	if o.NATS.Enabled {
		if auth, err := natsAuth(o.NATS); err != nil {
			errs = append(errs, err)
		} else if _, err := auth.options(); err != nil {
			errs = append(errs, fmt.Errorf("nats output: %w", err))
		}
	}
	if o.Kafka.Enabled {
		if _, err := secret(o.Kafka.SASL.Password, o.Kafka.SASL.PasswordFile); err != nil {
			errs = append(errs, fmt.Errorf("kafka output: %w", err))
		}
	}
	return errors.Join(errs...)
}

// warnKeyFiles warns about TLS private keys that others may read: they
// are secrets too, but were accepted before Vigil checked secret files, so
// they are not refused.
func warnKeyFiles(o config.Outputs, log *slog.Logger) {
	if log == nil {
		return
	}
	for _, t := range []struct {
		name    string
		enabled bool
		key     string
	}{{"http", o.HTTP.Enabled, o.HTTP.TLS.KeyFile}, {"nats", o.NATS.Enabled, o.NATS.TLS.KeyFile}, {"kafka", o.Kafka.Enabled, o.Kafka.TLS.KeyFile}} {
		if t.enabled && t.key != "" {
			if err := CheckSecretFile(t.key); err != nil {
				log.Warn("TLS key file is not owner-only", "output", t.name, "error", err.Error())
			}
		}
	}
}

// natsAuth reads the NATS output's secrets.
func natsAuth(c config.NATS) (NATSAuth, error) {
	token, err := secret(c.Token, c.TokenFile)
	if err != nil {
		return NATSAuth{}, fmt.Errorf("nats output: %w", err)
	}
	pass, err := secret(c.Password, c.PasswordFile)
	if err != nil {
		return NATSAuth{}, fmt.Errorf("nats output: %w", err)
	}
	return NATSAuth{Token: token, Username: c.Username, Password: pass, CredentialsFile: c.CredentialsFile,
		NKeySeedFile: c.NKeySeedFile}, nil
}
