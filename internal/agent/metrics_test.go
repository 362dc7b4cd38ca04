package agent

import (
	"testing"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/pipeline"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/sensor"
	"github.com/vigilsec/vigil/internal/testutil"
)

// TestCollector checks the exposition of the sensor, pipeline, process
// and fd table counters and of the kernel filter.
func TestCollector(t *testing.T) {
	st := Stats{
		Sensor: sensor.Stats{Received: 10, DecodeErrors: 2, KernelDrops: map[string]uint64{"exec": 1}},
		Pipeline: pipeline.Stats{Shards: []pipeline.ShardStats{{Processed: 8, QueueDepth: 2, FullWaits: 1}},
			DroppedByKind: map[event.Kind]uint64{event.KindOpen: 4}},
		Table: proc.Stats{Entries: 3, FDs: 42, FDsDropped: 1},
	}
	body := testutil.Scrape(t, collector{stats: func() Stats { return st }, syscalls: func() []string { return []string{"mkdirat", "openat"} }})
	testutil.WantLines(t, body,
		"vigil_events_received_total 10",
		"vigil_decode_errors_total 2",
		`vigil_kernel_drops_total{kind="exec"} 1`,
		`vigil_pipeline_drops_total{kind="open"} 4`,
		`vigil_pipeline_processed_total{shard="0"} 8`,
		`vigil_pipeline_queue_depth{shard="0"} 2`,
		`vigil_pipeline_full_waits_total{shard="0"} 1`,
		"vigil_process_table_entries 3",
		"vigil_fd_table_entries 42",
		"vigil_fd_table_dropped_total 1",
		`vigil_kernel_filter_syscalls{syscall="mkdirat"} 1`,
		`vigil_kernel_filter_syscalls{syscall="openat"} 1`,
	)
}
