package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vigilsec/vigil/internal/config"
)

// configFlags are the flags that override configuration keys; run and
// config show share them so that show prints what run would use.
type configFlags struct {
	path         string
	rules        []string
	defaults     bool
	experimental bool
	strict       bool
	format       string
	metrics      string
	shards       int
	ringSize     int
	queueLen     int
	logFmt       string
	logLevel     string
	options      []string
	// skipFormat leaves --format out of the configuration, for commands
	// where it names a report's format instead.
	skipFormat bool
	server     string
}

// register declares the flags with config.Default's values as their
// defaults, so that --help shows what an absent key means.
func (f *configFlags) register(fs *pflag.FlagSet) {
	d := config.Default()
	fs.StringVarP(&f.path, "config", "c", config.DefaultPath, "configuration file, Vigil's or Falco's falco.yaml (the default path may be absent)")
	fs.StringArrayVarP(&f.rules, "rules", "r", nil, "rule file or directory (repeatable; later files amend earlier ones; default: the embedded rules)")
	fs.StringArrayVarP(&f.options, "option", "o", nil, "set a configuration key, Vigil's (outputs.http.url=...) or Falco's (json_output=true), "+
		"the value read as YAML (repeatable; applied over the file and VIGIL_* variables, under the other flags)")
	fs.BoolVar(&f.defaults, "with-defaults", false, "load the embedded default rules before --rules, which can then amend them")
	fs.BoolVar(&f.experimental, "experimental", false, "also load the embedded experimental rules (off by default; see docs/rules.md)")
	fs.BoolVar(&f.strict, "strict", false, "refuse rules that use fields Vigil does not know, instead of skipping them")
	fs.StringVar(&f.format, "format", d.Outputs.Stdout.Format, "stdout alert format: json, text or falco (Falco's text output)")
	fs.StringVar(&f.metrics, "metrics-addr", d.MetricsAddr, "serve Prometheus metrics, /healthz and /readyz on this address (host:port; off when empty)")
	fs.IntVar(&f.shards, "shards", d.Shards, "pipeline workers (default: one per CPU)")
	fs.IntVar(&f.ringSize, "ring-buffer-size", d.RingBufferSize, "kernel ring buffer size in bytes (a power of two)")
	fs.IntVar(&f.queueLen, "alert-queue", d.Outputs.Stdout.QueueSize, "stdout alerts waiting to be written before new ones are dropped")
	fs.StringVar(&f.logFmt, "log-format", d.LogFormat, "the agent's logs on stderr: text or json")
	fs.StringVar(&f.logLevel, "log-level", d.LogLevel, "debug, info, warn or error")
	fs.StringVar(&f.server, "server", d.Transport.URL, "send alerts and heartbeats to the central service through this NATS JetStream (nats://host:4222; transport.url)")
}

// load reads the file and environment, then applies the flags given on
// the command line, and validates the result.
func (f *configFlags) load(fs *pflag.FlagSet) (*config.Config, error) {
	c, _, err := f.loadFile(fs)
	return c, err
}

// loadFile is load, also telling what the file was: Vigil's or a
// falco.yaml, with the Falco keys it ignored or mapped with a difference.
func (f *configFlags) loadFile(fs *pflag.FlagSet) (*config.Config, *config.FileInfo, error) {
	c, info, err := config.LoadFile(f.path, fs.Changed("config"), os.Environ(), f.options)
	if err != nil {
		return nil, nil, err
	}
	if fs.Changed("rules") {
		c.Rules = f.rules
	}
	if fs.Changed("with-defaults") {
		c.WithDefaults = f.defaults
	}
	if fs.Changed("experimental") {
		c.ExperimentalRules = f.experimental
	}
	if fs.Changed("strict") {
		c.Strict = f.strict
	}
	if fs.Changed("format") && !f.skipFormat {
		c.Outputs.Stdout.Format = f.format
	}
	if fs.Changed("metrics-addr") {
		c.MetricsAddr = f.metrics
	}
	if fs.Changed("shards") {
		c.Shards = f.shards
	}
	if fs.Changed("ring-buffer-size") {
		c.RingBufferSize = f.ringSize
	}
	if fs.Changed("alert-queue") {
		c.Outputs.Stdout.QueueSize = f.queueLen
	}
	if fs.Changed("log-format") {
		c.LogFormat = f.logFmt
	}
	if fs.Changed("log-level") {
		c.LogLevel = f.logLevel
	}
	if fs.Changed("server") {
		c.Transport.URL = f.server
	}
	return c, info, c.Validate()
}

// logNotes logs, once at start, the falco.yaml keys that have no meaning
// in Vigil (warnings) and those mapped with a difference.
func logNotes(log *slog.Logger, path string, info *config.FileInfo) {
	if info == nil || info.Kind != config.KindFalco {
		return
	}
	log.Info("reading Falco's configuration file", "file", path)
	for _, n := range info.Notes {
		if n.Ignored {
			log.Warn("falco.yaml key has no meaning in Vigil; ignored", "key", n.Key, "line", n.Line, "why", n.Why)
		} else {
			log.Info("falco.yaml key mapped", "key", n.Key, "line", n.Line, "how", n.Why)
		}
	}
}

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Inspect Vigil's configuration"}
	var f configFlags
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration: defaults, file, VIGIL_* variables and flags",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.load(cmd.Flags())
			if err != nil {
				return err
			}
			out, err := c.Marshal()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	f.register(show.Flags())
	cmd.AddCommand(show, newFromFalcoCmd())
	return cmd
}

func newFromFalcoCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "from-falco FALCO_YAML",
		Short: "Translate Falco's falco.yaml into Vigil's configuration",
		Long: "Read a falco.yaml as vigil run --config would and write the equivalent Vigil\n" +
			"configuration: the keys that differ from Vigil's defaults, with the Falco keys\n" +
			"that have no meaning in Vigil (or a different one) listed in comments. See\n" +
			"docs/falco.md.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, info, err := config.LoadFile(args[0], true, nil, nil)
			if err != nil {
				return err
			}
			if info.Kind != config.KindFalco {
				return fmt.Errorf("%s is Vigil's configuration already, not Falco's", args[0])
			}
			out, err := config.MarshalFromFalco(c, info.Notes, args[0])
			if err != nil {
				return err
			}
			if output == "" || output == "-" {
				_, err = cmd.OutOrStdout().Write(out)
				return err
			}
			return os.WriteFile(output, out, 0o644)
		},
	}
	cmd.Flags().StringVar(&output, "output", "", "write to this file instead of stdout")
	return cmd
}
