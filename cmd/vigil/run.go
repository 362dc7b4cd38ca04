package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/internal/agent"
	"github.com/vigilsec/vigil/internal/agent/service"
	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/outputs"
	"github.com/vigilsec/vigil/internal/rules/lang"
)

type runOptions struct {
	configFlags
	falco    falcoFlags
	duration time.Duration
	stats    bool
}

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
			"SIGHUP, or a change to the rule or configuration files, reloads them.\n\n" +
			"Falco's flags work too: -c falco.yaml (Falco's configuration file is read as\n" +
			"Falco reads it), -r, -o key=value, -L, -l RULE, --list, --support, -P and\n" +
			"--dry-run; see docs/falco.md.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRules(cmd, o) },
	}
	f := cmd.Flags()
	o.register(f)
	f.DurationVar(&o.duration, "duration", 0, "stop after this long (default: until interrupted)")
	f.BoolVar(&o.stats, "stats", false, "print counters to stderr on exit: per-rule matches, dropped alerts, outputs, agent stats")
	o.falco.register(f)
	return cmd
}

func runRules(cmd *cobra.Command, o runOptions) error {
	// A report's --format is not the alerts' format.
	o.skipFormat = o.falco.reports()
	cfg, info, err := o.loadFile(cmd.Flags())
	if err != nil {
		return err
	}
	if o.falco.reports() {
		return o.falco.report(cmd, &o, cfg, info)
	}
	log, err := newLogger(cmd.ErrOrStderr(), cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return err
	}
	logNotes(log, o.path, info)
	if o.falco.dryRun {
		return o.falco.check(cfg, log)
	}
	removePidfile, err := writePidfile(o.falco.pidfile, log)
	if err != nil {
		return err
	}
	defer removePidfile()
	// SIGHUP first: until it is subscribed, one would kill the agent.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	// Stop signals are subscribed before the agent says it runs: one sent
	// as soon as it does must stop it cleanly, draining what it captured.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(stop)
	a, err := service.Start(service.Config{Config: cfg, ConfigPath: o.path, Hangup: hup,
		LoadConfig: func() (*config.Config, error) { return o.load(cmd.Flags()) },
		Log:        log, Stdout: cmd.OutOrStdout()})
	if err != nil {
		return err
	}
	waitForStop(stop, o.duration)
	st, err := a.Stop()
	if o.stats {
		err = errors.Join(err, printRunStats(cmd.ErrOrStderr(), st))
	}
	return err
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

func printRunStats(w io.Writer, st service.Stats) error {
	d := st.Detector
	s := runStats{Rules: map[string]uint64{}, Detector: detectorStats{Events: d.Events, Alerts: d.Alerts, Dropped: d.Dropped},
		Alerts: st.Delivery, Outputs: st.Outputs, Suppressed: st.Suppressed, Agent: st.Agent}
	for _, r := range d.Rules {
		s.Rules[r.Name] = r.Matches
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// newLogger returns the agent's structured logger on w. format and level
// are validated by the configuration, so an error here is a level the
// validation let through.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// printDiagnostics writes one diagnostic per line as file:line:col:
// severity: message, after prefix.
func printDiagnostics(w io.Writer, ds lang.Diagnostics, prefix string) error {
	p := printer{w: w}
	for _, d := range ds {
		p.printf("%s%s\n", prefix, d)
	}
	return p.err
}
