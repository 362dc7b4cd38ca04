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
	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/container"
	containersources "github.com/vigilsec/vigil/internal/container/sources"
	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/ktime"
	"github.com/vigilsec/vigil/internal/outputs"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/reload"
	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/sensor"
)

type runOptions struct {
	configFlags
	duration time.Duration
	stats    bool
}

// shutdownTimeout bounds how long outputs may take to deliver what is
// queued when the agent stops, or when a reload replaces them: a dead
// output must not hold the exit.
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
			"(default " + config.DefaultPath + "), VIGIL_* variables and flags; see docs/config.md.\n" +
			"SIGHUP, or a change to the rule or configuration files, reloads them.",
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
	// SIGHUP first: until it is subscribed, one would kill the agent.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	log := newLogger(cmd.ErrOrStderr(), cfg.LogFormat, cfg.LogLevel)
	if err := preflight(log); err != nil {
		return err
	}
	rs, err := reload.LoadRules(cfg)
	if rs != nil {
		reload.LogRuleSet(log, rs)
	}
	if err != nil {
		return fmt.Errorf("not starting: %w (check the rules with: vigil rules validate)", err)
	}
	shards := cfg.Shards
	if shards <= 0 {
		shards = runtime.NumCPU()
	}
	host, _ := os.Hostname()
	table := proc.New()
	// Container identity: runtimes found on this host are listed now and
	// followed from then on; lookups on the event path never block.
	sources := containersources.Detect()
	containers := container.New(container.Config{Sources: sources})
	if err := containers.Start(context.Background()); err != nil {
		log.Warn("container metadata unavailable, container ids only", "error", err.Error())
	}
	defer containers.Close()
	env := &fields.Env{Table: table, Clock: ktime.NewClock(), Users: fields.NewUsers("/etc/passwd", "/etc/group"),
		Hostname: host, Containers: containers}
	stdout := cmd.OutOrStdout()
	alerts, err := reload.NewAlerts(cfg, func(o config.Outputs) (*outputs.Dispatcher, error) { return buildOutputs(o, stdout) }, shutdownTimeout)
	if err != nil {
		return err
	}
	logOutputs(log, cfg.Outputs)
	latency := detect.NewLatency()
	det := detect.New(detect.Config{Program: rs.Program, Env: env, Shards: shards, Emit: alerts.Emit, Latency: latency})
	// Rule actions: blocked before the operation where the kernel allows,
	// otherwise carried out after detection.
	enf := newEnforcement(log, det, alerts.Emit, containers, sources)
	commitEnforcement, _, _ := enf.prepare(cfg, rs)
	commitEnforcement()
	defer enf.close()
	a, err := agent.Start(agent.Config{
		Sensor:   sensor.Config{RingBufferBytes: cfg.RingBufferSize, Syscalls: rs.Syscalls},
		TrackFDs: rs.NeedsFDTable,
		Shards:   shards,
		Table:    table,
		Handler: func(shard int, ev *event.Event) {
			enf.observe(ev)
			det.Handle(shard, ev)
		},
	})
	if err != nil {
		alerts.Close()
		return err
	}
	reloader := reload.New(reload.Config{Log: log, LoadConfig: func() (*config.Config, error) { return o.load(cmd.Flags()) },
		ConfigPath: o.path, Detector: det, Kernel: a.Sensor, FDs: a.Table, Alerts: alerts, Enforce: enf.prepare}, cfg, rs, rs.NeedsFDTable)
	drops := startDropAlert(cfg.KernelDropAlert, a, alerts, host)
	defer drops.Stop()
	stopVulnWatch := startVulnWatch(cfg.VulnWatch, sources, alerts.Emit, host, log)
	defer stopVulnWatch()
	srv, err := serveMetrics(cfg.MetricsAddr, a, det, alerts, latency, reloader, drops, containers, enf)
	if err != nil {
		a.Stop()
		alerts.Close()
		return err
	}
	if srv != nil {
		defer srv.Close()
		log.Info("metrics on http://"+srv.Addr()+"/metrics", "addr", srv.Addr())
	}
	ctx, stopReloads := context.WithCancel(context.Background())
	reloads := make(chan struct{})
	go func() {
		defer close(reloads)
		reloader.Run(ctx, hup, cfg.Reload.Watch, time.Duration(cfg.Reload.Debounce))
	}()
	// Stop signals are subscribed before the agent says it runs: one sent
	// as soon as it does must stop it cleanly, draining what it captured.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(stop)
	log.Info(fmt.Sprintf("running %d rules", reload.EnabledRules(rs)), "syscalls", strings.Join(rs.Syscalls, ","),
		"fd_tables", rs.NeedsFDTable, "shards", shards, "ring_buffer_size", cfg.RingBufferSize)

	waitForStop(stop, o.duration)
	stopReloads()
	<-reloads
	drops.Stop()
	runErr := a.Stop() // drains the pipeline, so every alert is emitted before the outputs close
	enf.close()        // container kills still queued report before the outputs close
	writeErr := alerts.Close()
	if o.stats {
		printRunStats(cmd.ErrOrStderr(), det.Stats(), alerts.EmitterStats(), alerts.Stats(), alerts.Suppressed(), a.Stats())
	}
	if runErr != nil {
		return runErr
	}
	return writeErr
}

// waitForStop returns when stop delivers a signal, or after d when d > 0.
func waitForStop(stop <-chan os.Signal, d time.Duration) {
	var timeout <-chan time.Time
	if d > 0 {
		timeout = time.After(d)
	}
	select {
	case <-stop:
	case <-timeout:
	}
}

// runStats is what --stats prints.
type runStats struct {
	Rules    map[string]uint64   `json:"rules"`
	Detector detectorStats       `json:"detector"`
	Alerts   alert.DeliveryStats `json:"alerts"`
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

func printRunStats(w io.Writer, d detect.Stats, e alert.DeliveryStats, outs []outputs.Stats, suppressed uint64, a agent.Stats) {
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
