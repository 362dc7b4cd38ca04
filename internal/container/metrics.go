package container

import "github.com/prometheus/client_golang/prometheus"

var (
	descLookups = prometheus.NewDesc("vigil_container_lookups_total",
		"Container lookups that left the event without full metadata: not_yet_known (id only, runtime not answered yet) or unresolved (no container id).",
		[]string{"outcome"}, nil)
	descFetches = prometheus.NewDesc("vigil_container_runtime_requests_total",
		"Runtime API inspections by outcome: ok, error (socket missing, timeout, bad answer), not_found, dropped (queue full).",
		[]string{"outcome"}, nil)
	descWatchErrors = prometheus.NewDesc("vigil_container_runtime_watch_errors_total",
		"Broken or refused runtime event streams (each is retried).", nil, nil)
	descKnown = prometheus.NewDesc("vigil_containers_known",
		"Containers in the resolver's cache.", nil, nil)
)

// Collector exports the resolver's counters at scrape time.
func (r *Resolver) Collector() prometheus.Collector { return statsCollector(r.Stats) }

// statsCollector turns Stats into metrics on each scrape.
type statsCollector func() Stats

func (statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLookups, descFetches, descWatchErrors, descKnown} {
		ch <- d
	}
}

func (c statsCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	st := c()
	counter(descLookups, st.NotYetKnown, "not_yet_known")
	counter(descLookups, st.Unresolved, "unresolved")
	ok := st.Fetches - min(st.Fetches, st.FetchErrors+st.FetchNotFound)
	counter(descFetches, ok, "ok")
	counter(descFetches, st.FetchErrors, "error")
	counter(descFetches, st.FetchNotFound, "not_found")
	counter(descFetches, st.QueueDrops, "dropped")
	counter(descWatchErrors, st.WatchErrors)
	ch <- prometheus.MustNewConstMetric(descKnown, prometheus.GaugeValue, float64(st.Containers))
}
