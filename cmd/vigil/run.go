package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/internal/agent"
	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/metrics"
	"github.com/vigilsec/vigil/internal/output"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/sensor"
)

type runOptions struct {
	rules    []string
	defaults bool
	format   string
	strict   bool
	duration time.Duration
	stats    bool
	shards   int
	ringSize int
	queueLen int
	metrics  string
}

func newRunCmd() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the agent with detection rules and print alerts",
		Long: "Run the agent, evaluate Falco-style rules on every event and print an alert per\n" +
			"match: JSON lines on stdout by default, logs on stderr. Without --rules the\n" +
			"embedded default rules are used. The kernel captures only the syscalls the\n" +
			"loaded rules can match.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRules(cmd, o) },
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.rules, "rules", nil, "rule file or directory (repeatable; later files amend earlier ones; default: the embedded rules)")
	f.BoolVar(&o.defaults, "with-defaults", false, "load the embedded default rules before --rules, which can then amend them")
	f.StringVar(&o.format, "format", "json", "alert format: json or text")
	f.BoolVar(&o.strict, "strict", false, "refuse rules that use fields Vigil does not know, instead of skipping them")
	f.DurationVar(&o.duration, "duration", 0, "stop after this long (default: until interrupted)")
	f.StringVar(&o.metrics, "metrics-addr", "", "serve Prometheus metrics, /healthz and /readyz on this address (host:port; off when empty)")
	f.BoolVar(&o.stats, "stats", false, "print counters to stderr on exit: per-rule matches, dropped alerts, agent stats")
	f.IntVar(&o.shards, "shards", 0, "pipeline workers (default: one per CPU)")
	f.IntVar(&o.ringSize, "ring-buffer-size", 8<<20, "kernel ring buffer size in bytes (a power of two)")
	f.IntVar(&o.queueLen, "alert-queue", detect.DefaultQueueLen, "alerts waiting to be written before new ones are dropped")
	return cmd
}

func runRules(cmd *cobra.Command, o runOptions) error {
	format, err := detect.ParseFormat(o.format)
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	rs, err := detect.Load(detect.LoadOptions{Paths: o.rules, Defaults: o.defaults, Strict: o.strict})
	if err != nil {
		return err
	}
	printDiagnostics(stderr, rs.Diagnostics, "vigil: ")
	if rs.Diagnostics.HasErrors() {
		return fmt.Errorf("the rules have errors; not starting (check them with: vigil rules validate)")
	}
	enabled := 0
	for _, r := range rs.Program.Rules() {
		if r.Enabled {
			enabled++
		}
	}
	if enabled == 0 {
		return fmt.Errorf("no enabled rules to run")
	}

	shards := o.shards
	if shards <= 0 {
		shards = runtime.NumCPU()
	}
	host, _ := os.Hostname()
	table := proc.New()
	env := &fields.Env{Table: table, Clock: output.NewClock(), Users: fields.NewUsers("/etc/passwd", "/etc/group"), Hostname: host}
	em := detect.NewEmitter(cmd.OutOrStdout(), format, o.queueLen)
	det := detect.New(detect.Config{Program: rs.Program, Env: env, Shards: shards, Emit: em.Emit})
	a, err := agent.Start(agent.Config{
		Sensor:  sensor.Config{RingBufferBytes: o.ringSize, Syscalls: rs.Syscalls},
		Shards:  shards,
		Table:   table,
		Handler: det.Handle,
	})
	if err != nil {
		em.Close()
		return err
	}
	if o.metrics != "" {
		srv, err := metrics.Serve(o.metrics, metrics.Sources{Agent: a.Stats, Detector: det.Stats, Emitter: em.Stats})
		if err != nil {
			a.Stop()
			em.Close()
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		defer srv.Close()
		fmt.Fprintf(stderr, "vigil: metrics on http://%s/metrics\n", srv.Addr())
	}
	fmt.Fprintf(stderr, "vigil: running %d rules (syscalls: %s)\n", enabled, strings.Join(rs.Syscalls, ","))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(stop)
	var timeout <-chan time.Time
	if o.duration > 0 {
		timeout = time.After(o.duration)
	}
	select {
	case <-stop:
	case <-timeout:
	}
	runErr := a.Stop() // drains the pipeline, so every alert is emitted before Close
	writeErr := em.Close()
	if o.stats {
		printRunStats(stderr, det.Stats(), em.Stats(), a.Stats())
	}
	if runErr != nil {
		return runErr
	}
	return writeErr
}

// runStats is what --stats prints.
type runStats struct {
	Rules    map[string]uint64   `json:"rules"`
	Detector detectorStats       `json:"detector"`
	Alerts   detect.EmitterStats `json:"alerts"`
	Agent    agent.Stats         `json:"agent"`
}

type detectorStats struct {
	Events  uint64 `json:"events"`
	Alerts  uint64 `json:"alerts"`
	Dropped uint64 `json:"alerts_dropped"`
}

func printRunStats(w io.Writer, d detect.Stats, e detect.EmitterStats, a agent.Stats) {
	s := runStats{Rules: map[string]uint64{}, Detector: detectorStats{Events: d.Events, Alerts: d.Alerts, Dropped: d.Dropped}, Alerts: e, Agent: a}
	for _, r := range d.Rules {
		s.Rules[r.Name] = r.Matches
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(s)
}

// printDiagnostics writes one diagnostic per line as file:line:col:
// severity: message, after prefix.
func printDiagnostics(w io.Writer, ds lang.Diagnostics, prefix string) {
	for _, d := range ds {
		fmt.Fprintf(w, "%s%s\n", prefix, d)
	}
}
