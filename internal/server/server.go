// Package server is `vigil server`, the central service: it consumes what
// every node's agent publishes to NATS JetStream (package transport) with
// durable consumers shared by all replicas, stores it in PostgreSQL
// (package store), watches each agent's heartbeats and raises an alert in
// Falco's JSON shape, source "internal", when one goes silent, restarts or
// loses kernel events, and serves the stored alerts and agent states over
// a read API.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/metrics"
	"github.com/vigilsec/vigil/internal/server/store"
	"github.com/vigilsec/vigil/internal/transport"
)

// Config configures a Server.
type Config struct {
	Config *config.Server
	Log    *slog.Logger
	// NATSOptions are added to the connection's (tests).
	NATSOptions []nats.Option
}

// Server is one running replica.
type Server struct {
	cfg   *config.Server
	log   *slog.Logger
	store *store.Store
	nc    *nats.Conn
	js    jetstream.JetStream

	data, heartbeats jetstream.Consumer

	// connectedSince is when this replica last (re)connected to NATS, in
	// Unix nanoseconds: agents are not judged silent over a span in which
	// the server could not hear them.
	connectedSince atomic.Int64

	stats   *stats
	rejects *rejectLog
	api     *http.Server
	apiAddr string
	metrics *metrics.Server

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start connects to PostgreSQL (applying migrations) and NATS (creating
// the streams and consumers), then starts consuming, watching agents and
// serving.
func Start(ctx context.Context, c Config) (*Server, error) {
	cfg := c.Config
	log := c.Log
	if log == nil {
		log = slog.Default()
	}
	s := &Server{cfg: cfg, log: log, stats: newStats(), rejects: newRejectLog(log)}
	st, err := store.Open(ctx, cfg.Database.URL, cfg.Database.MaxConns)
	if err != nil {
		return nil, err
	}
	s.store = st
	if err := st.EnsurePartitions(ctx, today(), today().Add(24*time.Hour)); err != nil {
		st.Close()
		return nil, err
	}
	opts, err := transport.ConnectOptions(transport.Auth(cfg.NATS.Auth), transport.TLS(cfg.NATS.TLS))
	if err != nil {
		st.Close()
		return nil, err
	}
	opts = append(append([]nats.Option{nats.Name("vigil-server"), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("server: disconnected from NATS", "error", fmt.Sprint(err))
		}),
		nats.ReconnectHandler(func(*nats.Conn) {
			s.connectedSince.Store(time.Now().UnixNano())
			log.Info("server: reconnected to NATS")
		})}, opts...), c.NATSOptions...)
	if s.nc, err = nats.Connect(cfg.NATS.URL, opts...); err != nil {
		st.Close()
		return nil, fmt.Errorf("nats: %w", err)
	}
	s.connectedSince.Store(time.Now().UnixNano())
	if err := s.setupStreams(ctx); err != nil {
		s.nc.Close()
		st.Close()
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if cfg.API.Addr != "" {
		if err := s.serveAPI(); err != nil {
			s.Stop()
			return nil, fmt.Errorf("api: %w", err)
		}
	}
	if cfg.MetricsAddr != "" {
		if s.metrics, err = metrics.Serve(cfg.MetricsAddr, []prometheus.Collector{s.stats.collector(s)}, nil); err != nil {
			s.Stop()
			return nil, fmt.Errorf("metrics_addr: %w", err)
		}
	}
	for _, loop := range []func(context.Context){s.consumeData, s.consumeHeartbeats, s.watchAgents, s.retain} {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			loop(runCtx)
		}()
	}
	log.Info("server: consuming", "nats", s.nc.ConnectedUrlRedacted(), "durable", cfg.NATS.Durable, "api", s.apiAddr)
	return s, nil
}

func (s *Server) setupStreams(ctx context.Context) error {
	js, err := jetstream.New(s.nc)
	if err != nil {
		return err
	}
	s.js = js
	n := s.cfg.NATS
	if err := transport.EnsureStreams(ctx, js, n.SubjectPrefix, transport.StreamOptions{MaxAge: time.Duration(n.StreamMaxAge),
		Replicas: n.StreamReplicas, DuplicateWindow: time.Duration(n.DuplicateWindow)}); err != nil {
		return err
	}
	s.data, s.heartbeats, err = transport.Consumers(ctx, js, n.Durable, time.Duration(s.cfg.Consumer.AckWait), 4*s.cfg.Consumer.Batch*8)
	return err
}

// Store is the replica's database, for tests.
func (s *Server) Store() *store.Store { return s.store }

// APIAddr is where the API listens ("" when off).
func (s *Server) APIAddr() string { return s.apiAddr }

// Stats returns the replica's counters.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// Stop stops consuming (messages fetched and not yet acknowledged are
// redelivered to another replica), then closes the API, NATS and the
// database.
func (s *Server) Stop() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	if s.api != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.api.Shutdown(ctx); err != nil {
			// Connections still open after the grace period are cut.
			s.log.Warn("server: API shutdown", "error", err.Error())
		}
		cancel()
	}
	if s.metrics != nil {
		if err := s.metrics.Close(); err != nil {
			s.log.Warn("server: metrics server", "error", err.Error())
		}
	}
	if s.nc != nil {
		s.nc.Close()
	}
	s.store.Close()
}

// consumeData fetches batches from the shared data consumer and stores
// them, until ctx ends.
func (s *Server) consumeData(ctx context.Context) {
	for ctx.Err() == nil {
		batch, err := s.data.Fetch(s.cfg.Consumer.Batch, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			s.pause(ctx, err)
			continue
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && len(msgs) == 0 {
			s.pause(ctx, err)
			continue
		}
		if len(msgs) > 0 {
			s.storeBatch(ctx, msgs)
		}
	}
}

// pause waits a little after a failed fetch (NATS away), logging it.
func (s *Server) pause(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	s.log.Debug("server: fetch failed", "error", err.Error())
	select {
	case <-ctx.Done():
	case <-time.After(500 * time.Millisecond):
	}
}

func today() time.Time { return time.Now().UTC().Truncate(24 * time.Hour) }

// retain drops alert partitions past the retention and makes the next
// days' partitions ahead of time, hourly.
func (s *Server) retain(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		cutoff := today().Add(-time.Duration(s.cfg.RetentionDays) * 24 * time.Hour)
		if dropped, err := s.store.DropBefore(ctx, cutoff); err != nil && ctx.Err() == nil {
			s.log.Warn("server: retention failed", "error", err.Error())
		} else if len(dropped) > 0 {
			s.log.Info("server: dropped alert partitions past retention", "partitions", dropped)
		}
		if err := s.store.EnsurePartitions(ctx, today(), today().Add(24*time.Hour)); err != nil && ctx.Err() == nil {
			s.log.Warn("server: cannot create alert partitions", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
