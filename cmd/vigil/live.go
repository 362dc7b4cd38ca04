package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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

// serveMetrics serves /metrics on addr, or nothing when addr is empty.
func serveMetrics(addr string, a *agent.Agent, det *detect.Detector, alerts *outputs.Manager, latency *detect.Latency,
	r *reload.Reloader, drops dropAlerts, containers *container.Resolver, enf *enforce.Manager) (*metrics.Server, error) {
	if addr == "" {
		return nil, nil
	}
	srv, err := metrics.Serve(addr, []prometheus.Collector{a.Collector(), det.Collector(), alerts.Collector(),
		latency.Collector(), r.Collector(), drops.m.Collector(), containers.Collector(), enf.Collector()},
		map[string]http.Handler{"/enforce/status": enf.StatusHandler()})
	if err != nil {
		return nil, fmt.Errorf("metrics_addr: %w", err)
	}
	return srv, nil
}
