package main

import (
	"context"
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
	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/container/dockerapi"
	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/metrics"
	"github.com/vigilsec/vigil/internal/output"
	"github.com/vigilsec/vigil/internal/outputs"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/sensor"
)

type runOptions struct {
	configFlags
	duration time.Duration
	stats    bool
}

// shutdownTimeout bounds how long outputs may take to deliver what is
// queued when the agent stops: a dead output must not hold the exit.
const shutdownTimeout = 10 * time.Second

func newRunCmd() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the agent with detection rules and send alerts to the outputs",
		Long: "Run the agent, evaluate Falco-style rules on every event and send an alert per\n" +
			"match to every enabled output: JSON lines on stdout by default, logs on stderr.\n" +
			"Without rules the embedded default rules are used. The kernel captures only the\n" +
			"syscalls the loaded rules can match. Settings come from --config\n" +
			"(default " + config.DefaultPath + "), VIGIL_* variables and flags; see docs/config.md.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRules(cmd, o) },
	}
	f := cmd.Flags()
	o.register(f)
	f.DurationVar(&o.duration, "duration", 0, "stop after this long (default: until interrupted)")
	f.BoolVar(&o.stats, "stats", false, "print counters to stderr on exit: per-rule matches, dropped alerts, outputs, agent stats")
	return cmd
}

func runRules(cmd *cobra.Command, o runOptions) error {
	cfg, err := o.load(cmd.Flags())
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	rs, err := detect.Load(detect.LoadOptions{Paths: cfg.Rules, Defaults: cfg.WithDefaults, Strict: cfg.Strict})
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

	shards := cfg.Shards
	if shards <= 0 {
		shards = runtime.NumCPU()
	}
	host, _ := os.Hostname()
	table := proc.New()
	// Container identity: runtimes found on this host are listed now and
	// followed from then on; lookups on the event path never block.
	containers := container.New(container.Config{Sources: dockerapi.Detect()})
	if err := containers.Start(context.Background()); err != nil {
		fmt.Fprintf(stderr, "vigil: container metadata unavailable, container ids only: %v\n", err)
	}
	defer containers.Close()
	env := &fields.Env{Table: table, Clock: output.NewClock(), Users: fields.NewUsers("/etc/passwd", "/etc/group"),
		Hostname: host, Containers: containers}
	disp, err := buildOutputs(cfg.Outputs, cmd.OutOrStdout())
	if err != nil {
		return err
	}
	emit := disp.Emit
	var limiter *outputs.Limiter
	if rl := cfg.RateLimit; rl.Enabled {
		limiter = outputs.NewLimiter(outputs.LimitConfig{Rate: rl.Rate, Burst: rl.Burst, PerContainer: rl.PerContainer,
			Window: time.Duration(rl.Window)}, disp.Emit, nil)
		limiter.Start()
		emit = limiter.Emit
	}
	closeOutputs := func() error {
		if limiter != nil {
			limiter.Stop() // reports what it suppressed before the outputs close
		}
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		return disp.Close(ctx)
	}
	det := detect.New(detect.Config{Program: rs.Program, Env: env, Shards: shards, Emit: emit})
	a, err := agent.Start(agent.Config{
		Sensor:   sensor.Config{RingBufferBytes: cfg.RingBufferSize, Syscalls: rs.Syscalls},
		TrackFDs: rs.NeedsFDTable,
		Shards:   shards,
		Table:    table,
		Handler:  det.Handle,
	})
	if err != nil {
		closeOutputs()
		return err
	}
	if cfg.MetricsAddr != "" {
		srv, err := metrics.Serve(cfg.MetricsAddr, metrics.Sources{Agent: a.Stats, Detector: det.Stats, Emitter: disp.EmitterStats, Outputs: disp.Stats,
			Containers: containers.Stats})
		if err != nil {
			a.Stop()
			closeOutputs()
			return fmt.Errorf("metrics_addr: %w", err)
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
	runErr := a.Stop() // drains the pipeline, so every alert is emitted before the outputs close
	writeErr := closeOutputs()
	if o.stats {
		var suppressed uint64
		if limiter != nil {
			suppressed = limiter.Suppressed()
		}
		printRunStats(stderr, det.Stats(), disp.EmitterStats(), disp.Stats(), suppressed, a.Stats())
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
	Outputs  []outputs.Stats     `json:"outputs"`
	// Suppressed counts alerts the rate limit held back (and reported in
	// summary alerts).
	Suppressed uint64      `json:"rate_limited"`
	Agent      agent.Stats `json:"agent"`
}

type detectorStats struct {
	Events  uint64 `json:"events"`
	Alerts  uint64 `json:"alerts"`
	Dropped uint64 `json:"alerts_dropped"`
}

func printRunStats(w io.Writer, d detect.Stats, e detect.EmitterStats, outs []outputs.Stats, suppressed uint64, a agent.Stats) {
	s := runStats{Rules: map[string]uint64{}, Detector: detectorStats{Events: d.Events, Alerts: d.Alerts, Dropped: d.Dropped},
		Alerts: e, Outputs: outs, Suppressed: suppressed, Agent: a}
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
