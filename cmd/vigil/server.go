package main

import (
	"context"
	"encoding/json"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/server"
)

func newServerCmd() *cobra.Command {
	var (
		path, natsURL, dbURL, apiAddr, metricsAddr string
		stats                                      bool
	)
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the central service: consume every node's alerts from NATS JetStream into PostgreSQL",
		Long: "Run the central service. Agents started with --server nats://... publish their alerts\n" +
			"and heartbeats to NATS JetStream; every replica of vigil server shares one durable\n" +
			"consumer, stores each alert once in PostgreSQL (migrations are applied at start),\n" +
			"alerts when an agent goes silent, restarts or loses kernel events, and serves\n" +
			"the alerts and agent states at /api/v1. Settings come from --config (default\n" +
			config.DefaultServerPath + "), VIGIL_* variables and flags; see docs/deploy.md.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.LoadServer(path, cmd.Flags().Changed("config"), os.Environ())
			if cfg != nil {
				f := cmd.Flags()
				if f.Changed("nats") {
					cfg.NATS.URL = natsURL
				}
				if f.Changed("database") {
					cfg.Database.URL = dbURL
				}
				if f.Changed("api-addr") {
					cfg.API.Addr = apiAddr
				}
				if f.Changed("metrics-addr") {
					cfg.MetricsAddr = metricsAddr
				}
				err = cfg.Validate()
			}
			if err != nil {
				return err
			}
			log, err := newLogger(cmd.ErrOrStderr(), cfg.LogFormat, cfg.LogLevel)
			if err != nil {
				return err
			}
			ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer cancel()
			s, err := server.Start(ctx, server.Config{Config: cfg, Log: log})
			if err != nil {
				return err
			}
			<-ctx.Done()
			s.Stop()
			if stats {
				enc := json.NewEncoder(cmd.ErrOrStderr())
				enc.SetIndent("", "  ")
				return enc.Encode(s.Stats())
			}
			return nil
		},
	}
	d := config.DefaultServer()
	f := cmd.Flags()
	f.StringVar(&path, "config", config.DefaultServerPath, "configuration file (the default path may be absent)")
	f.StringVar(&natsURL, "nats", d.NATS.URL, "NATS server URL (nats.url)")
	f.StringVar(&dbURL, "database", d.Database.URL, "PostgreSQL connection string (database.url; better VIGIL_DATABASE_URL)")
	f.StringVar(&apiAddr, "api-addr", d.API.Addr, "serve the read API here (api.addr; off loopback it needs a token and TLS)")
	f.StringVar(&metricsAddr, "metrics-addr", d.MetricsAddr, "serve Prometheus metrics, /healthz and /readyz here (metrics_addr)")
	f.BoolVar(&stats, "stats", false, "print counters to stderr on exit")
	return cmd
}
