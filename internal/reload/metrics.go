package reload

import "github.com/prometheus/client_golang/prometheus"

var (
	descReloads = prometheus.NewDesc("vigil_reload_total",
		"Reloads of rules and configuration (SIGHUP or file change) by result: success, or failure (the running rules stayed).", []string{"result"}, nil)
	descLastSuccess = prometheus.NewDesc("vigil_reload_last_success_timestamp_seconds",
		"When the running rules were loaded: at start or by the last successful reload.", nil, nil)
	descRulesLoaded = prometheus.NewDesc("vigil_rules_loaded",
		"Enabled rules in the running rule set.", nil, nil)
)

// Collector exports the reload counters at scrape time.
func (r *Reloader) Collector() prometheus.Collector { return statsCollector(r.Stats) }

// statsCollector turns Stats into metrics on each scrape.
type statsCollector func() Stats

func (statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descReloads, descLastSuccess, descRulesLoaded} {
		ch <- d
	}
}

func (c statsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c()
	ch <- prometheus.MustNewConstMetric(descReloads, prometheus.CounterValue, float64(s.Successes), "success")
	ch <- prometheus.MustNewConstMetric(descReloads, prometheus.CounterValue, float64(s.Failures), "failure")
	ch <- prometheus.MustNewConstMetric(descLastSuccess, prometheus.GaugeValue, float64(s.LastSuccess.UnixNano())/1e9)
	ch <- prometheus.MustNewConstMetric(descRulesLoaded, prometheus.GaugeValue, float64(s.RulesLoaded))
}
