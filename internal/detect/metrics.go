package detect

import "github.com/prometheus/client_golang/prometheus"

var (
	descRuleMatches = prometheus.NewDesc("vigil_rule_matches_total",
		"Times each rule matched an event.", []string{"rule"}, nil)
	descLatency = prometheus.NewDesc("vigil_pipeline_latency_seconds",
		"Time from an event's kernel timestamp to its alert being handed to the outputs (the rate limiter first, when enabled); one observation per alert.", nil, nil)
)

// Collector exports each rule's match count at scrape time.
func (d *Detector) Collector() prometheus.Collector { return ruleCollector(d.Stats) }

// ruleCollector turns the detector's Stats into metrics on each scrape.
type ruleCollector func() Stats

func (ruleCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descRuleMatches }

func (c ruleCollector) Collect(ch chan<- prometheus.Metric) {
	for _, r := range c().Rules {
		ch <- prometheus.MustNewConstMetric(descRuleMatches, prometheus.CounterValue, float64(r.Matches), r.Name)
	}
}

// Collector exports the histogram at scrape time.
func (l *Latency) Collector() prometheus.Collector { return latencyCollector(l.Snapshot) }

// latencyCollector turns a Latency's snapshot into a histogram on each
// scrape.
type latencyCollector func() LatencySnapshot

func (latencyCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descLatency }

func (c latencyCollector) Collect(ch chan<- prometheus.Metric) {
	s := c()
	ch <- prometheus.MustNewConstHistogram(descLatency, s.Count, s.Sum, s.Buckets)
}
