package agent

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

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
	descFilter = prometheus.NewDesc("vigil_kernel_filter_syscalls",
		"Syscalls the kernel filter captures now (1 per syscall); it follows the loaded rules.", []string{"syscall"}, nil)
)

// Collector exports the sensor's, the pipeline's and the process table's
// counters, and the kernel syscall filter, at scrape time.
func (a *Agent) Collector() prometheus.Collector {
	return collector{stats: a.Stats, syscalls: a.Sensor.Syscalls}
}

type collector struct {
	stats    func() Stats
	syscalls func() []string
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descEvents, descDecodeErrors, descKernelDrops, descPipelineDrops,
		descProcessed, descQueueDepth, descFullWaits, descProcesses, descFDs, descFDsDropped, descFilter} {
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
	st := c.stats()
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
	for _, name := range c.syscalls() {
		gauge(descFilter, 1, name)
	}
}
