package dropalert

import "github.com/prometheus/client_golang/prometheus"

var (
	descAlerts = prometheus.NewDesc("vigil_kernel_drop_alerts_total",
		"Alerts raised because kernel drops exceeded kernel_drop_alert.ratio.", nil, nil)
	descChecks = prometheus.NewDesc("vigil_kernel_drop_checks_total",
		"Times the kernel drop ratio was checked (every kernel_drop_alert.interval).", nil, nil)
)

// Collector exports the monitor's counters at scrape time. A nil monitor
// (the drop alert is off) exports zeros, so the series exist either way.
func (m *Monitor) Collector() prometheus.Collector { return collector{m} }

type collector struct{ m *Monitor }

func (collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descAlerts
	ch <- descChecks
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	var s Stats
	if c.m != nil {
		s = c.m.Stats()
	}
	ch <- prometheus.MustNewConstMetric(descAlerts, prometheus.CounterValue, float64(s.Alerts))
	ch <- prometheus.MustNewConstMetric(descChecks, prometheus.CounterValue, float64(s.Checks))
}
