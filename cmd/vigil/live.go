package main

import (
	"fmt"
	"time"

	"github.com/vigilsec/vigil/internal/agent"
	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/dropalert"
	"github.com/vigilsec/vigil/internal/enforce"
	"github.com/vigilsec/vigil/internal/metrics"
	"github.com/vigilsec/vigil/internal/outputs"
	"github.com/vigilsec/vigil/internal/reload"
)

// dropAlerts is the kernel drop monitor, or nothing when it is disabled.
type dropAlerts struct{ m *dropalert.Monitor }

// startDropAlert watches the sensor's kernel drops and alerts through the
// outputs (past the rate limit: the monitor limits itself).
func startDropAlert(c config.KernelDropAlert, a *agent.Agent, alerts *outputs.Manager, host string) dropAlerts {
	if !c.Enabled {
		return dropAlerts{}
	}
	m := dropalert.New(dropalert.Config{Ratio: c.Ratio, Window: time.Duration(c.Window), Interval: time.Duration(c.Interval),
		Hostname: host, Emit: alerts.EmitUnlimited, Counters: func() dropalert.Counters {
			st := a.Sensor.Stats()
			return dropalert.Counters{Received: st.Received, Dropped: st.TotalKernelDrops()}
		}})
	m.Start()
	return dropAlerts{m}
}

// Stop ends the checks; it may be called more than once.
func (d dropAlerts) Stop() {
	if d.m != nil {
		d.m.Stop()
	}
}

func (d dropAlerts) stats() dropalert.Stats {
	if d.m == nil {
		return dropalert.Stats{}
	}
	return d.m.Stats()
}

// serveMetrics serves /metrics on addr, or nothing when addr is empty.
func serveMetrics(addr string, a *agent.Agent, det *detect.Detector, alerts *outputs.Manager, latency *detect.Latency,
	r *reload.Reloader, drops dropAlerts, containers *container.Resolver, enf *enforce.Manager) (*metrics.Server, error) {
	if addr == "" {
		return nil, nil
	}
	srv, err := metrics.Serve(addr, metrics.Sources{Agent: a.Stats, Detector: det.Stats, Emitter: alerts.EmitterStats,
		Outputs: alerts.Stats, Latency: latency.Snapshot, Reload: r.Stats, Syscalls: a.Sensor.Syscalls, DropAlert: drops.stats,
		Containers: containers.Stats, Enforcement: enf.Status})
	if err != nil {
		return nil, fmt.Errorf("metrics_addr: %w", err)
	}
	return srv, nil
}
