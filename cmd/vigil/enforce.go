package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/enforce"
	"github.com/vigilsec/vigil/internal/sensor"
)

func newEnforceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "enforce",
		Short: "Prevention: how rule actions (block, kill, kill-container) are carried out",
	}
	cmd.AddCommand(newEnforceStatusCmd())
	return cmd
}

func newEnforceStatusCmd() *cobra.Command {
	var (
		o      configFlags
		agent  string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the active enforcement and the kernel mechanisms in use",
		Long: "Without --agent: load the rules and configuration as vigil run would, and show\n" +
			"each rule's action, mode and mechanisms, the kernel policy it compiles to, and\n" +
			"which mechanisms this kernel offers. With --agent: ask a running agent (its\n" +
			"metrics address) for its live state and counters.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var st enforce.Status
			if agent != "" {
				if err := fetchStatus(agent, &st); err != nil {
					return err
				}
			} else {
				cfg, err := o.load(cmd.Flags())
				if err != nil {
					return err
				}
				rs, err := detect.Load(detect.LoadOptionsFrom(cfg))
				if err != nil {
					return err
				}
				if rs.Diagnostics.HasErrors() {
					return errors.Join(printDiagnostics(cmd.ErrOrStderr(), rs.Diagnostics, "vigil: "),
						fmt.Errorf("the rules have errors"))
				}
				plans, _ := enforce.Plan(rs.Program, enforce.OptionsFrom(cfg))
				st.Rules = enforce.Describe(plans)
				var signal, sockAddr bool
				for _, f := range sensor.ProbeFeatures() {
					signal = signal || (f.Name == "bpf_send_signal" && f.Available)
					sockAddr = sockAddr || (f.Name == "cgroup_sock_addr" && f.Available)
				}
				st.Mechanisms = enforce.ProbeMechanisms(signal, sockAddr)
			}
			// --format is shared with vigil run, where it is the alert
			// format; here json asks for the report as JSON.
			if asJSON || cmd.Flags().Changed("format") && o.format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			return printStatus(cmd.OutOrStdout(), st)
		},
	}
	o.register(cmd.Flags())
	cmd.Flags().StringVar(&agent, "agent", "", "a running agent's metrics address (host:port) to ask for its live state")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (the same as --format json)")
	return cmd
}

func fetchStatus(addr string, st *enforce.Status) error {
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(strings.TrimRight(addr, "/") + "/enforce/status")
	if err != nil {
		return fmt.Errorf("ask the agent: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("agent answered %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(st)
}

func printStatus(w io.Writer, st enforce.Status) error {
	p := printer{w: w}
	p.println("Mechanisms:")
	for _, m := range st.Mechanisms {
		state := "unavailable"
		switch {
		case m.Active:
			state = "active"
		case m.Available:
			state = "available"
		}
		p.printf("  %-55s %s", m.Name, state)
		if m.Detail != "" {
			p.printf(" (%s)", m.Detail)
		}
		p.println()
	}
	if len(st.Rules) == 0 {
		p.println("No enabled rule has an action: Vigil only alerts.")
	} else {
		p.println("Rules with actions:")
	}
	for _, r := range st.Rules {
		p.printf("  %s: %s (%s)\n", r.Name, r.Action, r.Mode)
		if r.Pre != "" {
			p.printf("    before the operation: %s\n", r.Pre)
		}
		if r.Post != "" {
			p.printf("    after detection:      %s\n", r.Post)
		}
		for _, pol := range r.Policy {
			p.printf("    policy: %s\n", pol)
		}
		for _, n := range r.Notes {
			p.printf("    note: %s\n", n)
		}
	}
	if s := st.Stats; s != nil {
		p.printf("Counters: blocked %d, killed %d, containers killed %d, audited %d, failed %d, fail-open %d, fail-closed %d\n",
			s.Blocked, s.Killed, s.ContainersKilled, s.Audited, s.Failed, s.FailOpen, s.FailClosed)
	}
	return p.err
}
