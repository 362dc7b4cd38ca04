package outputs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilsec/vigil/internal/alert"
)

// NATSConfig configures a NATSSink.
type NATSConfig struct {
	URL string
	// SubjectPrefix is followed by ".<priority>", lower case: the default
	// "vigil.alerts" gives vigil.alerts.warning.
	SubjectPrefix string
	// Subject, when set, is a template (see ExpandTemplate) that replaces
	// SubjectPrefix: FalcosidekickSubject gives falco.warning.my_rule.
	Subject string
	// Auth is how to authenticate; its zero value is not at all.
	Auth NATSAuth
	// JetStream publishes through JetStream and waits for the stream's
	// acknowledgement; a subject no stream captures is then a failure.
	JetStream bool
	// Timeout bounds connecting and each publish; <= 0 means 5s.
	Timeout time.Duration
	TLS     TLSConfig
	// JSON chooses the properties of the message.
	JSON alert.JSONOptions
}

// NATSAuth is one way of authenticating to NATS: a token, a user and
// password, a credentials file (a user JWT and its NKey seed) or an NKey
// seed file. The files must be owner-only (CheckSecretFile).
type NATSAuth struct {
	Token              string
	Username, Password string
	CredentialsFile    string
	NKeySeedFile       string
}

func (a NATSAuth) options() ([]nats.Option, error) {
	var opts []nats.Option
	if a.Token != "" {
		opts = append(opts, nats.Token(a.Token))
	}
	if a.Username != "" {
		opts = append(opts, nats.UserInfo(a.Username, a.Password))
	}
	if a.CredentialsFile != "" {
		if err := CheckSecretFile(a.CredentialsFile); err != nil {
			return nil, err
		}
		opts = append(opts, nats.UserCredentials(a.CredentialsFile))
	}
	if a.NKeySeedFile != "" {
		if err := CheckSecretFile(a.NKeySeedFile); err != nil {
			return nil, err
		}
		o, err := nats.NkeyOptionFromSeed(a.NKeySeedFile)
		if err != nil {
			return nil, err
		}
		opts = append(opts, o)
	}
	return opts, nil
}

// NATSSink publishes alerts as JSON to a subject per priority, or per the
// subject template.
type NATSSink struct {
	cfg  NATSConfig
	nc   *nats.Conn
	js   jetstream.JetStream
	opts []nats.Option
	buf  []byte
}

// NewNATSSink checks cfg; it connects on the first Send so that a server
// that is down at start is retried like any other failure.
func NewNATSSink(cfg NATSConfig) (*NATSSink, error) {
	if cfg.URL == "" {
		return nil, fmt.Errorf("nats output: no url")
	}
	if cfg.SubjectPrefix == "" {
		cfg.SubjectPrefix = "vigil.alerts"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	opts := []nats.Option{
		nats.Name("vigil"),
		nats.Timeout(cfg.Timeout),
		nats.MaxReconnects(-1),
		// No client-side reconnect buffer: a publish while disconnected
		// must fail, so the output's queue retries it and counts it,
		// instead of a buffer that dies with the process.
		nats.ReconnectBufSize(-1),
	}
	tc, err := cfg.TLS.Build()
	if err != nil {
		return nil, fmt.Errorf("nats output: %w", err)
	}
	if tc != nil {
		opts = append(opts, nats.Secure(tc))
	}
	auth, err := cfg.Auth.options()
	if err != nil {
		return nil, fmt.Errorf("nats output: %w", err)
	}
	return &NATSSink{cfg: cfg, opts: append(opts, auth...)}, nil
}

// SubjectOf is the subject a goes to.
func (s *NATSSink) SubjectOf(a *alert.Alert) string {
	if s.cfg.Subject != "" {
		return ExpandTemplate(s.cfg.Subject, a)
	}
	return s.Subject(a.Priority)
}

// Subject is the subject an alert of this priority goes to, without a
// subject template.
func (s *NATSSink) Subject(priority string) string {
	p := strings.Map(func(r rune) rune {
		// '.', '*', '>' and spaces have meaning in subjects.
		if r == '.' || r == '*' || r == '>' || r <= ' ' {
			return '_'
		}
		return r
	}, strings.ToLower(priority))
	if p == "" {
		p = "unknown"
	}
	return s.cfg.SubjectPrefix + "." + p
}

// Send publishes the alert and waits for the server: JetStream's
// acknowledgement, or a flush round trip for core NATS.
func (s *NATSSink) Send(ctx context.Context, a *alert.Alert) error {
	if s.nc == nil {
		nc, err := nats.Connect(s.cfg.URL, s.opts...)
		if err != nil {
			return fmt.Errorf("nats output: %w", err)
		}
		s.nc = nc
		if s.cfg.JetStream {
			if s.js, err = jetstream.New(nc); err != nil {
				return fmt.Errorf("nats output: %w", err)
			}
		}
	}
	s.buf = a.AppendJSON(s.buf[:0], s.cfg.JSON)
	var err error
	subj := s.SubjectOf(a)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if s.js != nil {
		_, err = s.js.Publish(ctx, subj, s.buf)
	} else if err = s.nc.Publish(subj, s.buf); err == nil {
		err = s.nc.FlushWithContext(ctx)
	}
	if err != nil {
		return fmt.Errorf("nats output: %s: %w", subj, err)
	}
	return nil
}

// Close drains and closes the connection.
func (s *NATSSink) Close() error {
	if s.nc == nil {
		return nil
	}
	s.nc.Close()
	return nil
}
