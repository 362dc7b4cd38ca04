package outputs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/config"
)

func TestExpandTemplate(t *testing.T) {
	a := testAlert(0)
	a.Rule, a.Priority, a.Hostname = "Terminal shell in container (K8s)!", "Critical", "node-1.example"
	for tmpl, want := range map[string]string{
		FalcosidekickSubject:         "falco.critical.terminal_shell_in_container_k8s",
		"alerts.<source>.<hostname>": "alerts.syscall.node_1_example",
		"plain-topic":                "plain-topic",
		"<rule>.<rule>":              "terminal_shell_in_container_k8s.terminal_shell_in_container_k8s",
	} {
		if got := ExpandTemplate(tmpl, a); got != want {
			t.Errorf("%s: %q, want %q", tmpl, got, want)
		}
	}
	a.Rule = "%%%"
	if got := ExpandTemplate(FalcosidekickSubject, a); got != "falco.critical.unknown" {
		t.Errorf("empty slug: %q", got)
	}
	if IsTemplate("vigil-alerts") || !IsTemplate(FalcosidekickSubject) {
		t.Error("IsTemplate")
	}
}

// TestSecretFilesOwnerOnly: secret files others may read are refused.
func TestSecretFilesOwnerOnly(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open")
	if err := os.WriteFile(open, []byte("s3cret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	closed := filepath.Join(dir, "closed")
	if err := os.WriteFile(closed, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CheckSecretFile(open); err == nil || !strings.Contains(err.Error(), "0644") {
		t.Errorf("0644 file: %v", err)
	}
	if s, err := readSecret(closed); err != nil || s != "s3cret" {
		t.Errorf("0600 file: %q %v", s, err)
	}
	if err := CheckSecretFile(dir); err == nil {
		t.Error("a directory accepted")
	}
	c := config.Default().Outputs
	c.Stdout.Enabled = false
	c.Kafka.Enabled, c.Kafka.Brokers = true, []string{"127.0.0.1:1"}
	c.Kafka.SASL = config.KafkaSASL{Mechanism: "PLAIN", Username: "u", PasswordFile: open}
	if _, err := Build(c, nil, nil); err == nil || !strings.Contains(err.Error(), "owner-only") {
		t.Errorf("kafka with a world-readable password file: %v", err)
	}
	if err := Check(c); err == nil {
		t.Error("Check accepted a world-readable password file")
	}
}

// kafkaTLS returns a server TLS config for 127.0.0.1 and the client
// TLSConfig that trusts it.
func kafkaTLS(t *testing.T) (*tls.Config, TLSConfig) {
	dir := t.TempDir()
	ca, caKey := newCert(t, dir, "ca", nil, nil)
	newCert(t, dir, "server", ca, caKey)
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &tls.Config{Certificates: []tls.Certificate{cert}}, TLSConfig{CAFile: filepath.Join(dir, "ca.crt")}
}

// TestKafkaSASL: a kfake cluster with SASL enabled takes the alerts of a
// client that authenticates with each mechanism, over TLS for one of
// them, and refuses a wrong password; a topic template names a topic per
// alert.
func TestKafkaSASL(t *testing.T) {
	srvTLS, cliTLS := kafkaTLS(t)
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			opts := []kfake.Opt{kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser(mech, "vigil", "s3cret"),
				kfake.SeedTopics(1, kafkaTopic, "falco.warning.test_rule")}
			useTLS := mech == "SCRAM-SHA-512"
			if useTLS {
				opts = append(opts, kfake.TLS(srvTLS))
			}
			c, err := kfake.NewCluster(opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			cfg := KafkaConfig{Brokers: c.ListenAddrs(), Topic: kafkaTopic, Timeout: 5 * time.Second,
				SASL: SASLConfig{Mechanism: mech, Username: "vigil", Password: "s3cret"}}
			if useTLS {
				cfg.TLS = cliTLS
			}
			s, err := NewKafkaSink(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Send(t.Context(), testAlert(0)); err != nil {
				t.Fatalf("authenticated send: %v", err)
			}
			cfg.Topic = FalcosidekickSubject
			tmpl, _ := NewKafkaSink(cfg)
			defer tmpl.Close()
			if err := tmpl.Send(t.Context(), testAlert(1)); err != nil {
				t.Fatalf("send to the template's topic: %v", err)
			}
			rec := consumeAuth(t, c.ListenAddrs(), "falco.warning.test_rule", cfg)
			var a alert.Alert
			if err := a.UnmarshalJSON(rec.Value); err != nil || a.Output != "alert 1" {
				t.Errorf("record %s: %v", rec.Value, err)
			}

			cfg.Topic = kafkaTopic
			cfg.SASL.Password = "wrong"
			cfg.Timeout = time.Second
			bad, _ := NewKafkaSink(cfg)
			defer bad.Close()
			if err := bad.Send(t.Context(), testAlert(2)); err == nil {
				t.Error("a wrong password was accepted")
			}
		})
	}
}

// consumeAuth reads the first record of topic with the sink's TLS and
// credentials.
func consumeAuth(t *testing.T, addrs []string, topic string, cfg KafkaConfig) *kgo.Record {
	t.Helper()
	opts := []kgo.Opt{kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}
	if tc, _ := cfg.TLS.Build(); tc != nil {
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if m, _ := cfg.SASL.mechanism(); m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("no record in %s: %v", topic, fs.Errors())
		}
		if recs := fs.Records(); len(recs) > 0 {
			return recs[0]
		}
	}
}

// startAuthNATS runs a server with opts on a free loopback port.
func startAuthNATS(t *testing.T, opts *server.Options) *server.Server {
	t.Helper()
	opts.Host, opts.Port, opts.NoLog, opts.NoSigs = "127.0.0.1", -1, true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(s.Shutdown)
	return s
}

// TestNATSAuth: a nats-server in each authentication mode takes the
// alerts of a sink that authenticates that way, on falcosidekick's
// subject, and refuses one that does not.
func TestNATSAuth(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	userKey, _ := nkeys.CreateUser()
	userPub, _ := userKey.PublicKey()
	userSeed, _ := userKey.Seed()

	// Operator mode for the credentials file: operator > account > user.
	op, _ := nkeys.CreateOperator()
	opPub, _ := op.PublicKey()
	opClaims := jwt.NewOperatorClaims(opPub)
	opJWT, err := opClaims.Encode(op)
	if err != nil {
		t.Fatal(err)
	}
	acc, _ := nkeys.CreateAccount()
	accPub, _ := acc.PublicKey()
	accJWT, err := jwt.NewAccountClaims(accPub).Encode(op)
	if err != nil {
		t.Fatal(err)
	}
	credUser, _ := nkeys.CreateUser()
	credPub, _ := credUser.PublicKey()
	credSeed, _ := credUser.Seed()
	uc := jwt.NewUserClaims(credPub)
	uc.IssuerAccount = accPub
	userJWT, err := uc.Encode(acc)
	if err != nil {
		t.Fatal(err)
	}
	creds, _ := jwt.FormatUserConfig(userJWT, credSeed)
	operator, err := jwt.DecodeOperatorClaims(opJWT)
	if err != nil {
		t.Fatal(err)
	}
	resolver := &server.MemAccResolver{}
	if err := resolver.Store(accPub, accJWT); err != nil {
		t.Fatal(err)
	}
	nkeyFile, credsFile := write("user.nk", string(userSeed)), write("user.creds", string(creds))
	nkeySub, err := nats.NkeyOptionFromSeed(nkeyFile)
	if err != nil {
		t.Fatal(err)
	}

	for _, mode := range []struct {
		name      string
		opts      *server.Options
		good, bad NATSAuth
		// subscribe authenticates the test's own subscriber.
		subscribe []nats.Option
	}{
		{"token", &server.Options{Authorization: "t0ken"}, NATSAuth{Token: "t0ken"}, NATSAuth{Token: "nope"},
			[]nats.Option{nats.Token("t0ken")}},
		{"user-password", &server.Options{Username: "vigil", Password: "s3cret"},
			NATSAuth{Username: "vigil", Password: "s3cret"}, NATSAuth{Username: "vigil", Password: "nope"},
			[]nats.Option{nats.UserInfo("vigil", "s3cret")}},
		{"nkey", &server.Options{Nkeys: []*server.NkeyUser{{Nkey: userPub}}},
			NATSAuth{NKeySeedFile: nkeyFile}, NATSAuth{}, []nats.Option{nkeySub}},
		{"credentials", &server.Options{TrustedOperators: []*jwt.OperatorClaims{operator}, AccountResolver: resolver},
			NATSAuth{CredentialsFile: credsFile}, NATSAuth{Token: "nope"}, []nats.Option{nats.UserCredentials(credsFile)}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			srv := startAuthNATS(t, mode.opts)
			sub, err := nats.Connect(srv.ClientURL(), mode.subscribe...)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			got, err := sub.SubscribeSync("falco.>")
			if err != nil {
				t.Fatal(err)
			}
			if err := sub.Flush(); err != nil {
				t.Fatal(err)
			}
			s, err := NewNATSSink(NATSConfig{URL: srv.ClientURL(), Subject: FalcosidekickSubject, Auth: mode.good, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Send(t.Context(), testAlert(0)); err != nil {
				t.Fatalf("authenticated send: %v", err)
			}
			msg, err := got.NextMsg(10 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			var a alert.Alert
			if msg.Subject != "falco.warning.test_rule" || a.UnmarshalJSON(msg.Data) != nil || a.Output != "alert 0" {
				t.Errorf("message on %s: %s", msg.Subject, msg.Data)
			}
			bad, err := NewNATSSink(NATSConfig{URL: srv.ClientURL(), Auth: mode.bad, Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer bad.Close()
			if err := bad.Send(t.Context(), testAlert(1)); err == nil {
				t.Error("a client without the right credentials published")
			}
		})
	}
	loose := filepath.Join(dir, "loose.creds")
	if err := os.WriteFile(loose, []byte(creds), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewNATSSink(NATSConfig{URL: "nats://127.0.0.1:1", Auth: NATSAuth{CredentialsFile: loose}}); err == nil {
		t.Error("a world-readable credentials file was accepted")
	}
}
