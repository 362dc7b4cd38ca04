package config

import (
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigilsec/vigil/internal/yamldoc"
)

// fixtureIgnored are the keys of testdata/falco.yaml with no Vigil
// meaning, as docs/falco.md lists them; fixtureMapped those mapped with a
// difference worth saying.
var (
	fixtureIgnored = []string{
		"append_output", "base_syscalls", "buffer_format_base64", "capture", "config_files",
		"engine.kmod", "engine.modern_ebpf.cpus_for_each_buffer", "engine.modern_ebpf.disable_iterators",
		"engine.modern_ebpf.drop_failed_exit", "engine.replay", "falco_libs", "libs_logger", "load_plugins",
		"log_syslog", "metrics", "output_timeout", "plugins", "plugins_hostinfo", "syscall_event_timeouts",
		"webserver.threadiness",
	}
	fixtureMapped = []string{
		"engine.modern_ebpf.buf_size_preset", "outputs_queue.capacity", "rules_files", "rules_files",
		"syscall_event_drops.threshold", "webserver.enabled",
	}
)

func noteKeys(notes []Note, ignored bool) []string {
	var keys []string
	for _, n := range notes {
		if n.Ignored == ignored {
			keys = append(keys, n.Key)
		}
	}
	sort.Strings(keys)
	return keys
}

// TestFalcoFixture: a falco.yaml with every key of Falco's schema loads,
// with only the documented notes, each naming its line; the keys with a
// Vigil meaning take it.
func TestFalcoFixture(t *testing.T) {
	c, info, err := LoadFile("testdata/falco.yaml", true, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.Kind != KindFalco {
		t.Fatalf("kind %v", info.Kind)
	}
	if got := noteKeys(info.Notes, true); !reflect.DeepEqual(got, fixtureIgnored) {
		t.Errorf("ignored keys\n%q\nwant\n%q", got, fixtureIgnored)
	}
	if got := noteKeys(info.Notes, false); !reflect.DeepEqual(got, fixtureMapped) {
		t.Errorf("mapped notes\n%q\nwant\n%q", got, fixtureMapped)
	}
	for _, n := range info.Notes {
		if n.Line <= 0 || n.Why == "" {
			t.Errorf("note without a line or a reason: %+v", n)
		}
	}
	o := c.Outputs
	switch {
	case c.RuleMatching != "first" || c.Priority != "debug" || c.LogLevel != "info":
		t.Errorf("rule_matching %q priority %q log_level %q", c.RuleMatching, c.Priority, c.LogLevel)
	case !reflect.DeepEqual(c.Rules, []string{"testdata/falco_rules.yaml"}):
		t.Errorf("rules %v", c.Rules)
	case !o.Stdout.Enabled || o.Stdout.Format != "falco" || !o.Syslog.Enabled || o.Syslog.Facility != 1 || o.File.Enabled ||
		o.HTTP.Enabled || o.Program.Enabled || o.Program.KeepAlive || o.Buffered:
		t.Errorf("outputs %+v", o)
	case c.MetricsAddr != "0.0.0.0:8765" || !c.Reload.Watch || c.RingBufferSize != 8<<20:
		t.Errorf("metrics_addr %q watch %v ring %d", c.MetricsAddr, c.Reload.Watch, c.RingBufferSize)
	case !c.KernelDropAlert.Enabled || c.KernelDropAlert.Ratio != 0.1 || time.Duration(c.KernelDropAlert.Window) != 30*time.Second:
		t.Errorf("kernel drop alert %+v", c.KernelDropAlert)
	case !o.JSON.IncludeOutputProperty || !o.JSON.IncludeTagsProperty || o.JSON.IncludeMessageProperty || o.TimeFormatISO8601:
		t.Errorf("json %+v", o.JSON)
	}
}

// TestFromFalcoLoadsTheSame: the Vigil configuration from-falco writes is
// Vigil's kind and loads into the same configuration.
func TestFromFalcoLoadsTheSame(t *testing.T) {
	for _, file := range []string{"testdata/falco.yaml", "testdata/falco-outputs.yaml"} {
		c, info, err := LoadFile(file, true, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		out, err := MarshalFromFalco(c, info.Notes, file)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := yamldoc.ParseOne("out.yaml", out)
		if err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		if k, err := DetectKind("out.yaml", doc.Content[0]); err != nil || k != KindVigil {
			t.Errorf("%s: translated kind %v %v", file, k, err)
		}
		back := Default()
		if err := Parse(back, out, "out.yaml"); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		if changed := Changed(c, back); len(changed) > 0 {
			t.Errorf("%s: keys differ after translation: %v\n%s", file, changed, out)
		}
		for _, n := range info.Notes {
			if n.Ignored && !strings.Contains(string(out), "# "+"  "+n.String()) && !strings.Contains(string(out), n.Key+" (line") {
				t.Errorf("%s: the translation does not mention %s", file, n.Key)
			}
		}
	}
}

// TestFalcoOutputs: every output key with a meaning maps.
func TestFalcoOutputs(t *testing.T) {
	c, info, err := LoadFile("testdata/falco-outputs.yaml", true, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := c.Outputs
	h := o.HTTP
	switch {
	case o.Stdout.Enabled || o.Stdout.Format != "json" || o.File.Format != "json" || !o.Buffered || !o.TimeFormatISO8601:
		t.Errorf("stdout %+v buffered %v", o.Stdout, o.Buffered)
	case !o.JSON.IncludeMessageProperty || o.JSON.IncludeTagsProperty || o.JSON.IncludeOutputProperty || o.JSON.IncludeOutputFieldsProperty:
		t.Errorf("json %+v", o.JSON)
	case !o.File.Enabled || o.File.Path != "/var/log/falco/events.json":
		t.Errorf("file %+v", o.File)
	case !o.Program.Enabled || o.Program.KeepAlive || o.Program.Command != "logger -t falco":
		t.Errorf("program %+v", o.Program)
	case !h.Enabled || h.URL != "http://falcosidekick:2801/" || h.UserAgent != "falco-test" || !h.Echo || h.Compression != "gzip" ||
		h.MaxRetries != 3 || !h.TLS.InsecureSkipVerify || h.TLS.CAFile != "/etc/ssl/ca.pem" ||
		h.TLS.CertFile != "/etc/falco/client.crt" || h.TLS.KeyFile != "/etc/falco/client.key":
		t.Errorf("http %+v", h)
	case c.Priority != "warning" || c.RuleMatching != "all" || c.LogLevel != "warn" || c.MetricsAddr != "127.0.0.1:9376":
		t.Errorf("priority %q rule_matching %q log_level %q metrics %q", c.Priority, c.RuleMatching, c.LogLevel, c.MetricsAddr)
	case !c.RateLimit.Enabled || c.RateLimit.Rate != 2 || c.RateLimit.Burst != 50:
		t.Errorf("rate limit %+v", c.RateLimit)
	case c.KernelDropAlert.Enabled || c.RingBufferSize != 1<<25:
		t.Errorf("kernel drop alert %+v ring %d", c.KernelDropAlert, c.RingBufferSize)
	}
	if got := noteKeys(info.Notes, true); !reflect.DeepEqual(got, []string{"engine.kind", "grpc", "grpc_output", "log_stderr", "unknown_key"}) {
		t.Errorf("ignored %q", got)
	}
}

func TestDetectKind(t *testing.T) {
	for text, want := range map[string]Kind{
		"":                                        KindVigil,
		"rules: [a.yaml]\nlog_level: debug\n":     KindVigil,
		"outputs: {stdout: {format: text}}\n":     KindVigil,
		"json_output: true\n":                     KindFalco,
		"rules:\n  - disable: {rule: '*'}\n":      KindFalco,
		"outputs: {rate: 1, max_burst: 10}\n":     KindFalco,
		"log_level: notice\n":                     KindFalco,
		"priority: warning\nrule_matching: all\n": KindVigil,
	} {
		doc, err := yamldoc.ParseOne("k.yaml", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		var top *yaml.Node
		if doc != nil && len(doc.Content) > 0 {
			top = doc.Content[0]
		}
		if got, err := DetectKind("k.yaml", top); err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", text, got, err, want)
		}
	}
	doc, _ := yamldoc.ParseOne("k.yaml", []byte("json_output: true\nshards: 2\n"))
	if _, err := DetectKind("k.yaml", doc.Content[0]); err == nil || !strings.Contains(err.Error(), "k.yaml:1:1") {
		t.Errorf("mixed file: %v", err)
	}
}

func TestApplyOverride(t *testing.T) {
	c := Default()
	for _, o := range []string{"outputs.http.url=http://x/", "outputs.http.enabled=true", "json_output=false",
		"http_output.compress_uploads=true", "rule_matching=first", "priority=ERROR", "outputs.http.headers={A: b}"} {
		if _, err := ApplyOverride(c, o); err != nil {
			t.Fatalf("%s: %v", o, err)
		}
	}
	h := c.Outputs.HTTP
	if !h.Enabled || h.URL != "http://x/" || h.Compression != "gzip" || h.Headers["A"] != "b" || c.Outputs.Stdout.Format != "falco" ||
		c.RuleMatching != "first" || c.Priority != "ERROR" {
		t.Errorf("config %+v %q %q", h, c.RuleMatching, c.Priority)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"no_such_key=1", "novalue", "outputs.shards=x", "json_output=maybe", "metrics_addr"} {
		if _, err := ApplyOverride(c, bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if _, err := ApplyOverride(c, "rule_matching=some"); err != nil || c.Validate() == nil {
		t.Errorf("rule_matching=some: %v, then valid", err)
	}
	if notes, err := ApplyOverride(c, "metrics.enabled=true"); err != nil || len(notes) != 1 || !notes[0].Ignored {
		t.Errorf("a key of an ignored block: %v %v", notes, err)
	}
}

// TestFalcoBadValues: a mistyped value of a key with a meaning is an
// error at its line; a key Vigil does not know is only a note.
func TestFalcoBadValues(t *testing.T) {
	for text, want := range map[string]string{
		"json_output: [a]\n":                 "f.yaml:1:14",
		"stdout_output:\n  enabled: maybe\n": "f.yaml:2:12",
		"priority: severe\n":                 "f.yaml:1:1",
		"rule_matching: best\n":              "f.yaml:1:1",
	} {
		c := FalcoDefaults()
		doc, _ := yamldoc.ParseOne("f.yaml", []byte(text))
		if _, err := ParseFalco(c, doc.Content[0], "f.yaml"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %s", text, err, want)
		}
	}
}
