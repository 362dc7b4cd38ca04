package service

import (
	"time"

	"github.com/vigilsec/vigil/internal/agent"
	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/dropalert"
	"github.com/vigilsec/vigil/internal/outputs"
)

// startDropAlert watches the sensor's kernel drops and alerts through the
// outputs (past the rate limit: the monitor limits itself). It returns
// nil when the drop alert is disabled.
func startDropAlert(c config.KernelDropAlert, a *agent.Agent, alerts *outputs.Manager, host string) *dropalert.Monitor {
	if !c.Enabled {
		return nil
	}
	m := dropalert.New(dropalert.Config{Ratio: c.Ratio, Window: time.Duration(c.Window), Interval: time.Duration(c.Interval),
		Hostname: host, Emit: alerts.EmitUnlimited, Counters: func() dropalert.Counters {
			st := a.Sensor.Stats()
			return dropalert.Counters{Received: st.Received, Dropped: st.TotalKernelDrops()}
		}})
	m.Start()
	return m
}
