package main

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/enforce"
	"github.com/vigilsec/vigil/internal/outputs"
)

// falcoFlags are Falco's command-line habits on vigil run (-c, -r and -o
// are configFlags'): they print something and exit, check and exit, or
// write a pid file.
type falcoFlags struct {
	listRules    bool   // -L
	describeRule string // -l RULE
	listFields   string // --list [SOURCE]
	support      bool
	dryRun       bool
	pidfile      string // -P
}

func (f *falcoFlags) register(fs *pflag.FlagSet) {
	fs.BoolVarP(&f.listRules, "list-rules", "L", false, "print the name and description of every rule and exit (all of each rule with --format json)")
	fs.StringVarP(&f.describeRule, "describe-rule", "l", "", "print the name and description of this rule and exit (all of it with --format json)")
	fs.StringVar(&f.listFields, "list", "", "print the fields rules can use and exit, as vigil fields does (--format json or markdown)")
	fs.Lookup("list").NoOptDefVal = "syscall"
	fs.BoolVar(&f.support, "support", false, "print, as JSON, the version, kernel features, configuration and rule digests for a bug report, and exit")
	fs.BoolVar(&f.dryRun, "dry-run", false, "load and check the configuration, the rules and the outputs' settings, then exit without attaching to the kernel")
	fs.StringVarP(&f.pidfile, "pidfile", "P", "", "write the agent's process id to this file (removed on exit)")
}

// reports says whether a flag asks for a report instead of running: then
// --format is the report's, not the alerts'.
func (f *falcoFlags) reports() bool {
	return f.listRules || f.describeRule != "" || f.listFields != "" || f.support
}

// report prints what -L, -l, --list or --support ask for.
func (f *falcoFlags) report(cmd *cobra.Command, o *runOptions, cfg *config.Config, info *config.FileInfo) error {
	format := "text"
	if cmd.Flags().Changed("format") {
		format = o.format
	}
	out := cmd.OutOrStdout()
	switch {
	case f.support:
		return printSupport(out, o.path, cfg, info)
	case f.listFields != "":
		if format != "text" && format != "json" && format != "markdown" {
			return fmt.Errorf("--format %q: want text, json or markdown", format)
		}
		return listFields(out, f.listFields, format)
	}
	rs, err := detect.Load(detect.LoadOptionsFrom(cfg))
	if err != nil {
		return err
	}
	return describeRules(out, rs, f.describeRule, format)
}

// check is --dry-run: everything vigil run loads and checks before it
// touches the kernel, logged as at start.
func (f *falcoFlags) check(cfg *config.Config, log *slog.Logger) error {
	rs, err := detect.Load(detect.LoadOptionsFrom(cfg))
	if err == nil {
		rs.Log(log)
		err = rs.Runnable()
	}
	if err != nil {
		return fmt.Errorf("dry run: %w (check the rules with: vigil rules validate)", err)
	}
	_, notes := enforce.Plan(rs.Program, enforce.OptionsFrom(cfg))
	for _, n := range notes {
		log.Warn("enforcement", "at", n.Pos.String(), "message", n.Message)
	}
	if err := outputs.Check(cfg.Outputs); err != nil {
		return fmt.Errorf("dry run: %w", err)
	}
	outputs.LogEnabled(log, cfg.Outputs)
	log.Info(fmt.Sprintf("dry run: %d rules would run; not attaching to the kernel", rs.Enabled()),
		"syscalls", strings.Join(rs.Syscalls, ","), "fd_tables", rs.NeedsFDTable)
	return nil
}

// writePidfile writes the process id to path, and returns what removes
// it; a pidfile that cannot be removed is logged, as it is left stale.
func writePidfile(path string, log *slog.Logger) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("pidfile: %w", err)
	}
	return func() {
		if err := os.Remove(path); err != nil {
			log.Warn("pidfile: cannot remove it", "path", path, "error", err.Error())
		}
	}, nil
}
