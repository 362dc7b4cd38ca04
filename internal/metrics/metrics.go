// Package metrics exposes Vigil's counters to Prometheus. Every stage already
// keeps its own counters for its Stats method; the collector here reads them
// at scrape time, so the event path pays nothing for metrics.
package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigilsec/vigil/internal/agent"
	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/dropalert"
	"github.com/vigilsec/vigil/internal/enforce"
	"github.com/vigilsec/vigil/internal/outputs"
	"github.com/vigilsec/vigil/internal/reload"
)

// Sources are the stages to read. Any of them may be nil.
type Sources struct {
	Agent    func() agent.Stats
	Detector func() detect.Stats
	Emitter  func() alert.DeliveryStats
	// Containers reports the container resolver's counters.
	Containers func() container.Stats
	// Outputs are the per-output counters.
	Outputs func() []outputs.Stats
	// Latency is the pipeline latency histogram, kernel timestamp to
	// alert handed to the outputs.
	Latency func() detect.LatencySnapshot
	// Reload reports reloads of rules and configuration.
	Reload func() reload.Stats
	// Syscalls lists the syscalls the kernel filter captures now.
	Syscalls func() []string
	// DropAlert reports the kernel drop monitor.
	DropAlert func() dropalert.Stats
	// Enforcement reports rule actions; nil when nothing enforces.
	Enforcement func() *enforce.Status
}

var (
	descEvents = prometheus.NewDesc("vigil_events_received_total",
		"Records read from the kernel ring buffer.", nil, nil)
	descDecodeErrors = prometheus.NewDesc("vigil_decode_errors_total",
		"Ring-buffer records that could not be decoded.", nil, nil)
	descKernelDrops = prometheus.NewDesc("vigil_kernel_drops_total",
		"Events lost in the kernel, by event kind (stash: arguments not saved at syscall entry).", []string{"kind"}, nil)
	descPipelineDrops = prometheus.NewDesc("vigil_pipeline_drops_total",
		"Events dropped because a pipeline shard's queue was full, by event kind.", []string{"kind"}, nil)
	descProcessed = prometheus.NewDesc("vigil_pipeline_processed_total",
		"Events handled by pipeline workers, by shard.", []string{"shard"}, nil)
	descQueueDepth = prometheus.NewDesc("vigil_pipeline_queue_depth",
		"Events waiting in a shard's queue.", []string{"shard"}, nil)
	descFullWaits = prometheus.NewDesc("vigil_pipeline_full_waits_total",
		"Times the ring-buffer reader found a shard's queue full and waited for room (the kernel ring buffer held the burst meanwhile), by shard.", []string{"shard"}, nil)
	descProcesses = prometheus.NewDesc("vigil_process_table_entries",
		"Processes in the process table.", nil, nil)
	descFDs = prometheus.NewDesc("vigil_fd_table_entries",
		"File descriptors in the fd tables of live processes (0 when no rule needs fd tables).", nil, nil)
	descFDsDropped = prometheus.NewDesc("vigil_fd_table_dropped_total",
		"New fds left out of a process's fd table because it was full.", nil, nil)
	descLatency = prometheus.NewDesc("vigil_pipeline_latency_seconds",
		"Time from an event's kernel timestamp to its alert being handed to the outputs (the rate limiter first, when enabled); one observation per alert.", nil, nil)
	descReloads = prometheus.NewDesc("vigil_reload_total",
		"Reloads of rules and configuration (SIGHUP or file change) by result: success, or failure (the running rules stayed).", []string{"result"}, nil)
	descReloadLast = prometheus.NewDesc("vigil_reload_last_success_timestamp_seconds",
		"When the running rules were loaded: at start or by the last successful reload.", nil, nil)
	descRulesLoaded = prometheus.NewDesc("vigil_rules_loaded",
		"Enabled rules in the running rule set.", nil, nil)
	descFilter = prometheus.NewDesc("vigil_kernel_filter_syscalls",
		"Syscalls the kernel filter captures now (1 per syscall); it follows the loaded rules.", []string{"syscall"}, nil)
	descDropAlerts = prometheus.NewDesc("vigil_kernel_drop_alerts_total",
		"Alerts raised because kernel drops exceeded kernel_drop_alert.ratio.", nil, nil)
	descDropChecks = prometheus.NewDesc("vigil_kernel_drop_checks_total",
		"Times the kernel drop ratio was checked (every kernel_drop_alert.interval).", nil, nil)
	descRuleMatches = prometheus.NewDesc("vigil_rule_matches_total",
		"Times each rule matched an event.", []string{"rule"}, nil)
	descContainerLookups = prometheus.NewDesc("vigil_container_lookups_total",
		"Container lookups that left the event without full metadata: not_yet_known (id only, runtime not answered yet) or unresolved (no container id).",
		[]string{"outcome"}, nil)
	descContainerFetches = prometheus.NewDesc("vigil_container_runtime_requests_total",
		"Runtime API inspections by outcome: ok, error (socket missing, timeout, bad answer), not_found, dropped (queue full).",
		[]string{"outcome"}, nil)
	descContainerWatchErrors = prometheus.NewDesc("vigil_container_runtime_watch_errors_total",
		"Broken or refused runtime event streams (each is retried).", nil, nil)
	descContainers = prometheus.NewDesc("vigil_containers_known",
		"Containers in the resolver's cache.", nil, nil)
	descAlerts = prometheus.NewDesc("vigil_alerts_total",
		"Alerts by outcome: emitted (queued by every output), written (sent, summed over outputs), dropped (some output's queue was full), error (failed, summed over outputs).", []string{"outcome"}, nil)
	descOutputAlerts = prometheus.NewDesc("vigil_output_alerts_total",
		"Alerts per output by outcome: sent, failed (after every retry), dropped (queue full).", []string{"output", "outcome"}, nil)
)

// collector turns Sources into metrics on each scrape.
type collector struct{ src Sources }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descEvents, descDecodeErrors, descKernelDrops, descPipelineDrops,
		descProcessed, descQueueDepth, descFullWaits, descProcesses, descRuleMatches, descAlerts, descOutputAlerts,
		descContainerLookups, descContainerFetches, descContainerWatchErrors, descContainers,
		descFDs, descFDsDropped, descLatency, descReloads, descReloadLast, descRulesLoaded, descFilter, descDropAlerts, descDropChecks} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if c.src.Agent != nil {
		st := c.src.Agent()
		counter(descEvents, st.Sensor.Received)
		counter(descDecodeErrors, st.Sensor.DecodeErrors)
		for kind, n := range st.Sensor.KernelDrops {
			counter(descKernelDrops, n, kind)
		}
		for kind, n := range st.Pipeline.DroppedByKind {
			counter(descPipelineDrops, n, kind.String())
		}
		for i, sh := range st.Pipeline.Shards {
			shard := strconv.Itoa(i)
			counter(descProcessed, sh.Processed, shard)
			gauge(descQueueDepth, float64(sh.QueueDepth), shard)
			counter(descFullWaits, sh.FullWaits, shard)
		}
		gauge(descProcesses, float64(st.Table.Entries))
		gauge(descFDs, float64(st.Table.FDs))
		counter(descFDsDropped, st.Table.FDsDropped)
	}
	c.collectLive(ch, counter, gauge)
	if c.src.Containers != nil {
		st := c.src.Containers()
		counter(descContainerLookups, st.NotYetKnown, "not_yet_known")
		counter(descContainerLookups, st.Unresolved, "unresolved")
		ok := st.Fetches - min(st.Fetches, st.FetchErrors+st.FetchNotFound)
		counter(descContainerFetches, ok, "ok")
		counter(descContainerFetches, st.FetchErrors, "error")
		counter(descContainerFetches, st.FetchNotFound, "not_found")
		counter(descContainerFetches, st.QueueDrops, "dropped")
		counter(descContainerWatchErrors, st.WatchErrors)
		gauge(descContainers, float64(st.Containers))
	}
	if c.src.Detector != nil {
		for _, r := range c.src.Detector().Rules {
			counter(descRuleMatches, r.Matches, r.Name)
		}
	}
	if c.src.Emitter != nil {
		st := c.src.Emitter()
		counter(descAlerts, st.Emitted, "emitted")
		counter(descAlerts, st.Written, "written")
		counter(descAlerts, st.Dropped, "dropped")
		counter(descAlerts, st.Errors, "error")
	}
	if c.src.Outputs != nil {
		for _, st := range c.src.Outputs() {
			counter(descOutputAlerts, st.Sent, st.Output, "sent")
			counter(descOutputAlerts, st.Failed, st.Output, "failed")
			counter(descOutputAlerts, st.Dropped, st.Output, "dropped")
		}
	}
}

// collectLive reports what changes with reloads and the alert path's
// latency.
func (c collector) collectLive(ch chan<- prometheus.Metric, counter func(*prometheus.Desc, uint64, ...string),
	gauge func(*prometheus.Desc, float64, ...string)) {
	if c.src.Latency != nil {
		s := c.src.Latency()
		ch <- prometheus.MustNewConstHistogram(descLatency, s.Count, s.Sum, s.Buckets)
	}
	if c.src.Reload != nil {
		s := c.src.Reload()
		counter(descReloads, s.Successes, "success")
		counter(descReloads, s.Failures, "failure")
		gauge(descReloadLast, float64(s.LastSuccess.UnixNano())/1e9)
		gauge(descRulesLoaded, float64(s.RulesLoaded))
	}
	if c.src.Syscalls != nil {
		for _, name := range c.src.Syscalls() {
			gauge(descFilter, 1, name)
		}
	}
	if c.src.DropAlert != nil {
		s := c.src.DropAlert()
		counter(descDropAlerts, s.Alerts)
		counter(descDropChecks, s.Checks)
	}
}

// Handler returns an HTTP handler serving /metrics (Vigil's metrics plus
// the Go runtime's and the process's own CPU and memory), /healthz and
// /readyz.
func Handler(src Sources) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{src: src},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{Namespace: "vigil"}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	ok := func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) }
	if src.Enforcement != nil {
		reg.MustRegister(enforcementCollector{src.Enforcement})
		mux.HandleFunc("/enforce/status", enforcementStatus(src.Enforcement))
	}
	mux.HandleFunc("/healthz", ok)
	mux.HandleFunc("/readyz", ok)
	return mux
}

// Server serves Handler on an address until Close.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// Serve starts serving on addr ("host:port"; port 0 picks a free one).
func Serve(addr string, src Sources) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{srv: &http.Server{Handler: Handler(src), ReadHeaderTimeout: 5 * time.Second}, ln: ln}
	go s.srv.Serve(ln)
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server, waiting briefly for scrapes in flight.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
