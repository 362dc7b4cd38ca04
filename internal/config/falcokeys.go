package config

import (
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigilsec/vigil/internal/alert"
)

// falcoHandler maps one Falco key (or block) to Vigil. A nil apply means
// the key has no Vigil meaning: why says so, and the key is ignored.
type falcoHandler struct {
	apply func(fc *falcoCtx, k, v *yaml.Node, path string) error
	why   string
}

func ignored(why string) falcoHandler { return falcoHandler{why: why} }

// later keeps the value for finish, where keys that depend on each other
// are settled.
var later = falcoHandler{apply: func(fc *falcoCtx, _, v *yaml.Node, path string) error {
	if v.Kind != yaml.ScalarNode && v.Kind != yaml.SequenceNode {
		return posError(fc.file, v, "%s: want a value", path)
	}
	fc.remember(path, v)
	return nil
}}

func boolKey(set func(c *Config, b bool)) falcoHandler {
	return falcoHandler{apply: func(fc *falcoCtx, _, v *yaml.Node, path string) error {
		var b bool
		if err := fc.decodeAt(v, path, &b); err != nil {
			return err
		}
		set(fc.c, b)
		fc.remember(path, v)
		return nil
	}}
}

func strKey(set func(fc *falcoCtx, k *yaml.Node, s string) error) falcoHandler {
	return falcoHandler{apply: func(fc *falcoCtx, k, v *yaml.Node, path string) error {
		var s string
		if err := fc.decodeAt(v, path, &s); err != nil {
			return err
		}
		fc.remember(path, v)
		return set(fc, k, s)
	}}
}

func intKey(set func(fc *falcoCtx, k *yaml.Node, n int) error) falcoHandler {
	return falcoHandler{apply: func(fc *falcoCtx, k, v *yaml.Node, path string) error {
		var n int
		if err := fc.decodeAt(v, path, &n); err != nil {
			return err
		}
		fc.remember(path, v)
		return set(fc, k, n)
	}}
}

// accepted is a key whose Falco meaning Vigil has without a setting.
func accepted() falcoHandler { return later }

const (
	noPlugins   = "Vigil has no plugins: it serves the syscall source itself (containers and Kubernetes included)"
	noTuning    = "tunes Falco's own engine; Vigil sizes its tables and kernel filter itself"
	noStatsLogs = "Vigil's counters are Prometheus metrics (metrics_addr) and vigil run --stats"
)

// falcoKeys maps falco.yaml's keys, by dotted path, to Vigil. Keys of a
// block with no entry of their own are looked up by the block's path.
// docs/falco.md lists the same, key by key.
var falcoKeys = map[string]falcoHandler{
	"config_files":       ignored("Vigil reads one configuration file; merge the files into it"),
	"watch_config_files": boolKey(func(c *Config, b bool) { c.Reload.Watch = b }),

	"rules_files": {apply: rulesFiles},
	"rules_file":  {apply: rulesFiles},
	"rules": ignored("rule selection by name or tag is not supported: set enabled: false on rules, " +
		"or in a later rule file (override: {enabled: replace})"),
	"priority": strKey(func(fc *falcoCtx, k *yaml.Node, s string) error {
		if _, ok := alert.Severity(s); !ok {
			return posError(fc.file, k, "priority: %q: want emergency, alert, critical, error, warning, notice, informational or debug", s)
		}
		fc.c.Priority = strings.ToLower(s)
		return nil
	}),
	"rule_matching": strKey(func(fc *falcoCtx, k *yaml.Node, s string) error {
		if s != "first" && s != "all" {
			return posError(fc.file, k, "rule_matching: %q: want first or all", s)
		}
		fc.c.RuleMatching = s
		return nil
	}),

	"engine.kind":                             later,
	"engine.modern_ebpf.buf_size_preset":      later,
	"engine.modern_ebpf.cpus_for_each_buffer": ignored("Vigil's sensor has one ring buffer, sized by ring_buffer_size"),
	"engine.modern_ebpf.drop_failed_exit":     ignored("Vigil's kernel filter keeps the syscalls its rules need, failed ones included"),
	"engine.modern_ebpf.disable_iterators":    ignored("Vigil seeds its process table from /proc"),
	"engine.kmod":                             ignored("Vigil has no kernel module: its sensor is CO-RE eBPF (modern_ebpf)"),
	"engine.ebpf":                             ignored("Vigil has no legacy eBPF probe: its sensor is CO-RE eBPF (modern_ebpf)"),
	"engine.replay":                           ignored("Vigil does not replay capture files"),
	"engine.gvisor":                           ignored("Vigil does not read gVisor's events"),

	"capture":              ignored("Vigil does not write capture files"),
	"load_plugins":         ignored(noPlugins),
	"plugins":              ignored(noPlugins),
	"plugins_hostinfo":     ignored(noPlugins),
	"time_format_iso_8601": boolKey(func(c *Config, b bool) { c.Outputs.TimeFormatISO8601 = b }),
	"buffer_format_base64": ignored("Vigil renders buffers as Falco's default does"),
	"json_output": boolKey(func(c *Config, b bool) {
		f := "falco"
		if b {
			f = "json"
		}
		c.Outputs.Stdout.Format, c.Outputs.File.Format, c.Outputs.Program.Format = f, f, f
	}),
	"json_include_output_property":        boolKey(func(c *Config, b bool) { c.Outputs.JSON.IncludeOutputProperty = b }),
	"json_include_tags_property":          boolKey(func(c *Config, b bool) { c.Outputs.JSON.IncludeTagsProperty = b }),
	"json_include_message_property":       boolKey(func(c *Config, b bool) { c.Outputs.JSON.IncludeMessageProperty = b }),
	"json_include_output_fields_property": boolKey(func(c *Config, b bool) { c.Outputs.JSON.IncludeOutputFieldsProperty = b }),
	"buffered_outputs":                    boolKey(func(c *Config, b bool) { c.Outputs.Buffered = b }),
	"outputs_queue.capacity": intKey(func(fc *falcoCtx, k *yaml.Node, n int) error {
		if n <= 0 {
			fc.note(k, "outputs_queue.capacity", false, "0 (unbounded) keeps Vigil's bound of %d alerts per output: "+
				"Vigil never queues without a bound", fc.c.Outputs.Stdout.QueueSize)
			return nil
		}
		o := &fc.c.Outputs
		for _, q := range []*Queue{&o.Stdout.Queue, &o.File.Queue, &o.Syslog.Queue, &o.Program.Queue, &o.HTTP.Queue, &o.NATS.Queue, &o.Kafka.Queue} {
			q.QueueSize = n
		}
		fc.note(k, "outputs_queue.capacity", false, "Vigil has a queue per output: each gets this capacity")
		return nil
	}),
	"outputs.rate":      later,
	"outputs.max_burst": later,
	"append_output":     ignored("Vigil adds no output to rules from the configuration: override the rule's output in a later rule file"),
	"static_fields":     ignored("Vigil has no static fields"),

	"stdout_output.enabled": boolKey(func(c *Config, b bool) { c.Outputs.Stdout.Enabled = b }),
	"syslog_output.enabled": boolKey(func(c *Config, b bool) { c.Outputs.Syslog.Enabled = b }),
	"file_output.enabled":   boolKey(func(c *Config, b bool) { c.Outputs.File.Enabled = b }),
	"file_output.filename": strKey(func(fc *falcoCtx, _ *yaml.Node, s string) error {
		fc.c.Outputs.File.Path = s
		return nil
	}),
	"file_output.keep_alive":    accepted(),
	"program_output.enabled":    boolKey(func(c *Config, b bool) { c.Outputs.Program.Enabled = b }),
	"program_output.keep_alive": boolKey(func(c *Config, b bool) { c.Outputs.Program.KeepAlive = b }),
	"program_output.program": strKey(func(fc *falcoCtx, _ *yaml.Node, s string) error {
		fc.c.Outputs.Program.Command = s
		return nil
	}),
	"http_output.enabled": boolKey(func(c *Config, b bool) { c.Outputs.HTTP.Enabled = b }),
	"http_output.url": strKey(func(fc *falcoCtx, _ *yaml.Node, s string) error {
		fc.c.Outputs.HTTP.URL = strings.Trim(s, `"'`)
		return nil
	}),
	"http_output.user_agent": strKey(func(fc *falcoCtx, _ *yaml.Node, s string) error {
		fc.c.Outputs.HTTP.UserAgent = s
		return nil
	}),
	"http_output.insecure":    boolKey(func(c *Config, b bool) { c.Outputs.HTTP.TLS.InsecureSkipVerify = b }),
	"http_output.ca_cert":     later,
	"http_output.ca_bundle":   later,
	"http_output.ca_path":     later,
	"http_output.mtls":        later,
	"http_output.client_cert": later,
	"http_output.client_key":  later,
	"http_output.echo":        boolKey(func(c *Config, b bool) { c.Outputs.HTTP.Echo = b }),
	"http_output.compress_uploads": boolKey(func(c *Config, b bool) {
		c.Outputs.HTTP.Compression = "none"
		if b {
			c.Outputs.HTTP.Compression = "gzip"
		}
	}),
	"http_output.keep_alive": accepted(),
	"http_output.max_consecutive_timeouts": intKey(func(fc *falcoCtx, _ *yaml.Node, n int) error {
		fc.c.Outputs.HTTP.MaxRetries = max(n, 0)
		return nil
	}),
	"grpc":        ignored("Vigil has no gRPC server (Falco deprecated it too): use the http output, e.g. to falcosidekick"),
	"grpc_output": ignored("Vigil has no gRPC output (Falco deprecated it too): use the http output, e.g. to falcosidekick"),

	"webserver.enabled":                    later,
	"webserver.listen_port":                later,
	"webserver.listen_address":             later,
	"webserver.k8s_healthz_endpoint":       later,
	"webserver.prometheus_metrics_enabled": accepted(),
	"webserver.ssl_enabled":                later,
	"webserver.ssl_certificate":            later,
	"webserver.threadiness":                ignored("Vigil's metrics server needs no thread setting"),

	"log_stderr": boolKey(func(*Config, bool) {}),
	"log_syslog": boolKey(func(*Config, bool) {}),
	"log_level": strKey(func(fc *falcoCtx, k *yaml.Node, s string) error {
		switch strings.ToLower(s) {
		case "emergency", "alert", "critical", "error":
			fc.c.LogLevel = "error"
		case "warning":
			fc.c.LogLevel = "warn"
		case "notice", "info", "informational":
			fc.c.LogLevel = "info"
		case "debug":
			fc.c.LogLevel = "debug"
		default:
			return posError(fc.file, k, "log_level: %q: want one of Falco's levels, emergency to debug", s)
		}
		return nil
	}),
	"libs_logger":                        ignored("Vigil has no separate library log"),
	"output_timeout":                     ignored("each Vigil output has its own queue and timeout (outputs.*.timeout), so one blocked output never holds the others"),
	"syscall_event_timeouts":             ignored(noTuning),
	"syscall_event_drops.threshold":      later,
	"syscall_event_drops.actions":        later,
	"syscall_event_drops.rate":           later,
	"syscall_event_drops.max_burst":      later,
	"syscall_event_drops.simulate_drops": later,
	"metrics":                            ignored(noStatsLogs),
	"base_syscalls":                      ignored("Vigil's kernel filter holds exactly the syscalls its rules and process tracking need"),
	"falco_libs":                         ignored(noTuning),
}

// falcoTop holds falcoKeys' top-level names.
var falcoTop = func() map[string]struct{} {
	m := map[string]struct{}{}
	for k := range falcoKeys {
		top, _, _ := strings.Cut(k, ".")
		m[top] = struct{}{}
	}
	return m
}()

// rulesFiles takes the rule files that exist, in order; like Falco, it
// leaves out those that do not, and says so.
func rulesFiles(fc *falcoCtx, k, v *yaml.Node, path string) error {
	var files []string
	if err := fc.decodeAt(v, path, &files); err != nil {
		return err
	}
	fc.c.Rules = fc.c.Rules[:0]
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			fc.note(k, path, false, "%s does not exist; left out, as Falco does", f)
			continue
		}
		fc.c.Rules = append(fc.c.Rules, f)
	}
	if len(files) > 0 && len(fc.c.Rules) == 0 {
		fc.note(k, path, false, "no rule file exists: Vigil runs its embedded default rules")
	}
	return nil
}

// finish settles the keys that depend on each other.
func (fc *falcoCtx) finish() {
	c := fc.c
	noteAt := func(path string, ignored bool, why string) {
		fc.notes = append(fc.notes, Note{Key: path, Line: fc.line(path), Ignored: ignored, Why: why})
	}
	// engine
	if kind := fc.str("engine.kind", "modern_ebpf"); kind != "modern_ebpf" {
		noteAt("engine.kind", true, "Vigil's sensor is CO-RE eBPF, Falco's modern_ebpf; "+kind+" is not available")
	}
	if s := fc.str("engine.modern_ebpf.buf_size_preset", ""); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= 10 {
			c.RingBufferSize = 1 << (19 + n)
			noteAt("engine.modern_ebpf.buf_size_preset", false, "ring_buffer_size "+strconv.Itoa(c.RingBufferSize)+
				": Vigil has one ring buffer of that size, Falco one per CPU pair")
		} else {
			noteAt("engine.modern_ebpf.buf_size_preset", true, "want 1 to 10")
		}
	}
	// http_output's TLS
	h := &c.Outputs.HTTP.TLS
	if ca := fc.str("http_output.ca_cert", ""); ca != "" {
		h.CAFile = ca
	} else if ca := fc.str("http_output.ca_bundle", ""); ca != "" {
		h.CAFile = ca
	}
	if p := fc.str("http_output.ca_path", "/etc/ssl/certs"); p != "/etc/ssl/certs" && h.CAFile == "" {
		noteAt("http_output.ca_path", true, "Vigil takes a CA bundle file (ca_cert or ca_bundle), or the system roots")
	}
	if fc.flag("http_output.mtls") {
		h.CertFile = fc.str("http_output.client_cert", "/etc/ssl/certs/client.crt")
		h.KeyFile = fc.str("http_output.client_key", "/etc/ssl/certs/client.key")
	}
	// webserver
	if fc.flag("webserver.enabled") {
		c.MetricsAddr = net.JoinHostPort(fc.str("webserver.listen_address", "0.0.0.0"), fc.str("webserver.listen_port", "8765"))
		noteAt("webserver.enabled", false, "metrics_addr "+c.MetricsAddr+": Vigil serves /metrics, /healthz and /readyz there, not /versions")
		if fc.flag("webserver.ssl_enabled") {
			noteAt("webserver.ssl_enabled", true, "Vigil's metrics server speaks plain HTTP")
		}
		if p := fc.str("webserver.k8s_healthz_endpoint", "/healthz"); p != "/healthz" {
			noteAt("webserver.k8s_healthz_endpoint", true, "Vigil's health check is /healthz")
		}
	}
	// logs
	if _, set := fc.seen["log_stderr"]; set && !fc.flag("log_stderr") {
		noteAt("log_stderr", true, "Vigil always logs on stderr")
	}
	if fc.flag("log_syslog") {
		noteAt("log_syslog", true, "Vigil logs on stderr only")
	}
	// the deprecated global rate limit
	if r, err := strconv.ParseFloat(fc.str("outputs.rate", "0"), 64); err == nil && r > 0 {
		c.RateLimit.Enabled, c.RateLimit.Rate = true, r
		if b, err := strconv.Atoi(fc.str("outputs.max_burst", "1000")); err == nil && b > 0 {
			c.RateLimit.Burst = b
		}
		noteAt("outputs.rate", false, "rate_limit: Vigil limits each rule apart, Falco limited all alerts together")
	}
	fc.finishDrops()
}

// finishDrops maps syscall_event_drops to the kernel drop alert.
func (fc *falcoCtx) finishDrops() {
	const p = "syscall_event_drops."
	if len(fc.seenUnder(p)) == 0 {
		return
	}
	d := &fc.c.KernelDropAlert
	noteAt := func(path string, ignored bool, why string) {
		fc.notes = append(fc.notes, Note{Key: path, Line: fc.line(path), Ignored: ignored, Why: why})
	}
	if n, ok := fc.seen[p+"actions"]; ok {
		var actions []string
		if err := n.Decode(&actions); err != nil {
			noteAt(p+"actions", true, "want a list of actions")
		}
		d.Enabled = false
		for _, a := range actions {
			switch a {
			case "alert":
				d.Enabled = true
			case "exit":
				noteAt(p+"actions", true, "Vigil does not exit on drops")
			}
		}
	}
	if t, err := strconv.ParseFloat(fc.str(p+"threshold", ""), 64); err == nil {
		d.Ratio = math.Min(math.Max(t, 1e-9), 1)
	}
	if r, err := strconv.ParseFloat(fc.str(p+"rate", ""), 64); err == nil && r > 0 {
		d.Window = Duration(time.Duration(math.Round(1/r)) * time.Second)
		d.Interval = Duration(time.Second)
		if d.Window < d.Interval {
			d.Window = d.Interval
		}
		if d.Window/d.Interval > MaxDropAlertSamples {
			d.Interval = d.Window / MaxDropAlertSamples
		}
	}
	if fc.flag(p + "simulate_drops") {
		noteAt(p+"simulate_drops", true, "Vigil does not simulate drops")
	}
	if fc.line(p+"threshold") > 0 || fc.line(p+"rate") > 0 {
		at := p + "threshold"
		if fc.line(at) == 0 {
			at = p + "rate"
		}
		noteAt(at, false, "kernel_drop_alert: Vigil alerts when the share of events lost over the window "+
			"(1/rate) passes the threshold, at most once per window; Falco looked at each second")
	}
}

// seenUnder returns the remembered paths under prefix.
func (fc *falcoCtx) seenUnder(prefix string) []string {
	var out []string
	for p := range fc.seen {
		if strings.HasPrefix(p, prefix) {
			out = append(out, p)
		}
	}
	return out
}
