package outputs

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigilsec/vigil/internal/alert"
)

var (
	descAlerts = prometheus.NewDesc("vigil_alerts_total",
		"Alerts by outcome: emitted (queued by every output), written (sent, summed over outputs), dropped (some output's queue was full), error (failed, summed over outputs).", []string{"outcome"}, nil)
	descOutputAlerts = prometheus.NewDesc("vigil_output_alerts_total",
		"Alerts per output by outcome: sent, failed (after every retry), dropped (queue full).", []string{"output", "outcome"}, nil)
)

// Collector exports the alert path's totals and every output's counters
// since start at scrape time.
func (m *Manager) Collector() prometheus.Collector {
	return statsCollector{delivery: m.EmitterStats, outputs: m.Stats}
}

type statsCollector struct {
	delivery func() alert.DeliveryStats
	outputs  func() []Stats
}

func (statsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descAlerts
	ch <- descOutputAlerts
}

func (c statsCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	st := c.delivery()
	counter(descAlerts, st.Emitted, "emitted")
	counter(descAlerts, st.Written, "written")
	counter(descAlerts, st.Dropped, "dropped")
	counter(descAlerts, st.Errors, "error")
	for _, st := range c.outputs() {
		counter(descOutputAlerts, st.Sent, st.Output, "sent")
		counter(descOutputAlerts, st.Failed, st.Output, "failed")
		counter(descOutputAlerts, st.Dropped, st.Output, "dropped")
	}
}
