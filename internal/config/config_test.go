package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const sample = `rules: [/etc/vigil/rules.d]
metrics_addr: 127.0.0.1:9090
rate_limit:
  enabled: true
  burst: 5
  window: 30s
outputs:
  stdout:
    format: text
  http:
    enabled: true
    url: https://sidekick:2801/
    headers: {Authorization: Bearer t}
    max_retries: 3
    tls:
      cert_file: /etc/vigil/client.crt
      key_file: /etc/vigil/client.key
  kafka:
    enabled: true
    brokers: [k1:9092, k2:9092]
    key: container_id
`

func TestParseSample(t *testing.T) {
	c := Default()
	if err := Parse(c, []byte(sample), "vigil.yaml"); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	o := c.Outputs
	if !reflect.DeepEqual(c.Rules, []string{"/etc/vigil/rules.d"}) || c.MetricsAddr != "127.0.0.1:9090" ||
		!c.RateLimit.Enabled || c.RateLimit.Burst != 5 || c.RateLimit.Rate != 10 || c.RateLimit.Window != Duration(30*time.Second) ||
		o.Stdout.Format != "text" || !o.Stdout.Enabled || o.HTTP.Headers["Authorization"] != "Bearer t" ||
		o.HTTP.MaxRetries != 3 || o.HTTP.QueueSize != 4096 || o.HTTP.TLS.CertFile != "/etc/vigil/client.crt" ||
		!reflect.DeepEqual(o.Kafka.Brokers, []string{"k1:9092", "k2:9092"}) || o.Kafka.Topic != "vigil-alerts" {
		t.Errorf("%+v", c)
	}
}

func TestParseErrorsHavePositions(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"outputs:\n  http:\n    enabled: true\n    urll: x\n", `vigil.yaml:4:5: unknown key "outputs.http.urll"`},
		{"metrics: x\n", `vigil.yaml:1:1: unknown key "metrics"`},
		{"shards: many\n", `vigil.yaml:1:9: shards: cannot unmarshal !!str ` + "`many`" + ` into int`},
		{"rate_limit:\n  window: soon\n", `vigil.yaml:2:11: rate_limit.window: want a duration such as 5s: "soon"`},
		{"outputs: [a]\n", `vigil.yaml:1:10: outputs: want a mapping`},
		{"shards: 1\nshards: 2\n", `vigil.yaml:2:1: duplicate key "shards"`},
		{"rules: [\n", `vigil.yaml:2: invalid YAML: did not find expected node content`},
	} {
		err := Parse(Default(), []byte(tc.in), "vigil.yaml")
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got  %v\n want %s", tc.in, err, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	c := Default()
	c.RingBufferSize = 1000
	c.Outputs.Kafka.Enabled = true
	c.Outputs.Stdout.Format = "xml"
	err := c.Validate()
	for _, want := range []string{"ring_buffer_size: 1000", "outputs.kafka.brokers: required", `outputs.stdout.format: "xml"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v lacks %q", err, want)
		}
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

func TestEnvOverridesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.yaml")
	if err := os.WriteFile(path, []byte(sample), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, true, []string{
		"VIGIL_METRICS_ADDR=:9100",
		"VIGIL_OUTPUTS_KAFKA_BROKERS=a:1, b:2",
		"VIGIL_OUTPUTS_HTTP_TIMEOUT=2s",
		"VIGIL_OUTPUTS_HTTP_HEADERS={X-Token: abc}",
		"VIGIL_RATE_LIMIT_BURST=7",
		"VIGIL_OUTPUTS_STDOUT_ENABLED=false",
		"VIGIL_UNRELATED=1",
		"PATH=/bin",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsAddr != ":9100" || !reflect.DeepEqual(c.Outputs.Kafka.Brokers, []string{"a:1", "b:2"}) ||
		c.Outputs.HTTP.Timeout != Duration(2*time.Second) || c.Outputs.HTTP.Headers["X-Token"] != "abc" ||
		c.RateLimit.Burst != 7 || c.Outputs.Stdout.Enabled || c.Outputs.Stdout.Format != "text" {
		t.Errorf("%+v", c)
	}
	_, err = Load(path, true, []string{"VIGIL_SHARDS=lots"})
	if err == nil || !strings.HasPrefix(err.Error(), "$VIGIL_SHARDS:1:1: shards: cannot unmarshal") {
		t.Errorf("bad env value: %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.yaml")
	if c, err := Load(missing, false, nil); err != nil || !reflect.DeepEqual(c, Default()) {
		t.Errorf("optional missing file: %v", err)
	}
	if _, err := Load(missing, true, nil); err == nil {
		t.Error("required missing file accepted")
	}
}

// TestMarshalRoundTrip: what `vigil config show` prints parses back to
// the same configuration.
func TestMarshalRoundTrip(t *testing.T) {
	c := Default()
	if err := Parse(c, []byte(sample), "vigil.yaml"); err != nil {
		t.Fatal(err)
	}
	out, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back := Default()
	if err := Parse(back, out, "show"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("round trip differs:\n%s", out)
	}
}

// TestDocsCoverEveryKey: docs/config.md names every key.
func TestDocsCoverEveryKey(t *testing.T) {
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys() {
		if !strings.Contains(string(doc), "`"+k+"`") {
			t.Errorf("docs/config.md lacks `%s`", k)
		}
	}
}
