package service

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/vigilsec/vigil/internal/agent"
	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/outputs"
	"github.com/vigilsec/vigil/internal/transport"
)

// Version is reported in heartbeats; the command line sets it.
var Version = "dev"

// startTransport connects the agent to the central service when
// transport.url is set: every alert the outputs receive is also
// published, and heartbeats carry the agent's counters. It returns nil
// when the transport is off.
func startTransport(c config.Transport, node string, out *outputs.Manager, counters func() map[string]uint64,
	log *slog.Logger) (*transport.Publisher, error) {
	if !c.Enabled() {
		return nil, nil
	}
	opts, err := transport.ConnectOptions(transport.Auth(c.Auth), transport.TLS(c.TLS))
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	drops := &spoolDropAlert{node: node, emit: out.EmitUnlimited}
	p, err := transport.Start(transport.Config{URL: c.URL, SubjectPrefix: c.SubjectPrefix, Node: node, QueueSize: c.QueueSize,
		SpoolDir: c.Spool.Dir, SpoolMaxBytes: c.Spool.MaxBytes, Timeout: time.Duration(c.Timeout),
		HeartbeatInterval: time.Duration(c.HeartbeatInterval), Counters: counters, Version: Version, Options: opts,
		OnSpoolDrop: drops.dropped, Log: log})
	if err != nil {
		return nil, err
	}
	out.Forward(func(a *alert.Alert) bool { return p.Publish(transport.KindAlert, a) })
	log.Info("transport: sending to the central service", "nats", redactURL(c.URL), "node", node, "agent", p.Instance(),
		"spool", c.Spool.Dir)
	return p, nil
}

func redactURL(u string) string {
	if i := strings.Index(u, "@"); i >= 0 {
		if j := strings.Index(u, "://"); j >= 0 && j < i {
			return u[:j+3] + "***" + u[i:]
		}
	}
	return u
}

// heartbeatCounters reads the counters heartbeats carry.
func heartbeatCounters(p *agent.Agent, det *detect.Detector, out *outputs.Manager) func() map[string]uint64 {
	return func() map[string]uint64 {
		st := p.Sensor.Stats()
		d := det.Stats()
		e := out.EmitterStats()
		return map[string]uint64{transport.CounterKernelEvents: st.Received, transport.CounterKernelDrops: st.TotalKernelDrops(),
			transport.CounterAlerts: d.Alerts, transport.CounterAlertsDropped: d.Dropped + e.Dropped}
	}
}

// spoolDropAlert raises an alert when the spool drops messages for space,
// at most once a minute, with the count since the previous one.
type spoolDropAlert struct {
	node    string
	emit    func(*alert.Alert) bool
	mu      sync.Mutex
	last    time.Time
	pending uint64
}

func (s *spoolDropAlert) dropped(n, total uint64) {
	s.mu.Lock()
	s.pending += n
	if time.Since(s.last) < time.Minute {
		s.mu.Unlock()
		return
	}
	count := s.pending
	s.pending, s.last = 0, time.Now()
	s.mu.Unlock()
	s.emit(&alert.Alert{Time: time.Now().UTC(), Rule: "Vigil transport spool full", Priority: "Warning", Source: "internal",
		Hostname: s.node, Tags: []string{"vigil", "transport"},
		Output: fmt.Sprintf("the central service has been unreachable and the spool is full: %d messages dropped (%d in all), oldest first",
			count, total),
		OutputFields: map[string]any{"transport.dropped": count, "transport.dropped_total": total}})
}

// stopTransport sends what is queued, spooling what it cannot, within
// the shutdown deadline, and returns what failed (the spool's files).
func stopTransport(p *transport.Publisher) error {
	if p == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	return p.Close(ctx)
}
