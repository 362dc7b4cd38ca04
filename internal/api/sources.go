package api

import (
	"net/netip"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/baseline"
	"github.com/vigilsec/vigil/internal/enforce"
	"github.com/vigilsec/vigil/internal/flows"
	"github.com/vigilsec/vigil/internal/vulnrank"
	"github.com/vigilsec/vigil/internal/workload"
)

// The server reads the running agent through these small interfaces.
// Each is optional: a nil source leaves its part of the API empty.

// Flows is the connection map; *flows.Aggregator implements it.
type Flows interface {
	Snapshot() *flows.Snapshot
	Stats() flows.Stats
}

// Baselines are the learned baselines; *baseline.Engine implements it.
type Baselines interface {
	Workloads() []baseline.Summary
	Mode(id string) (baseline.Mode, bool)
	SetMode(id string, m baseline.Mode) error
	Document(id string) (*baseline.Document, error)
	KnownPeer(id string, inbound bool, addr netip.Addr, port uint16, proto baseline.Proto) (bool, baseline.Mode, bool)
}

var (
	_ Flows     = (*flows.Aggregator)(nil)
	_ Baselines = (*baseline.Engine)(nil)
)

// Process is a live process of a workload.
type Process struct {
	PID         uint32    `json:"pid"`
	PPID        uint32    `json:"ppid"`
	Comm        string    `json:"comm"`
	Exe         string    `json:"exe"`
	Cmdline     string    `json:"cmdline"`
	User        string    `json:"user"`
	UID         uint32    `json:"uid"`
	ContainerID string    `json:"container_id,omitempty"`
	Started     time.Time `json:"started,omitzero"`
}

// Processes lists the live processes of a workload (the process table
// grouped by workload).
type Processes interface {
	Processes(workloadID string) []Process
}

// Labels gives a Kubernetes workload's pod labels (the pod informer's),
// for NetworkPolicy generation.
type Labels interface {
	Labels(w *workload.Workload) (map[string]string, bool)
}

// WorkloadFindings are the ranked vulnerability findings of one
// workload's image or host, from its last scan.
type WorkloadFindings struct {
	Workload string
	Scanned  time.Time
	Findings []vulnrank.Ranked
}

// Vulnerabilities are the findings of every workload.
type Vulnerabilities interface {
	Vulnerabilities() []WorkloadFindings
}

// Enforcement is the enforcement state `vigil enforce status` shows.
type Enforcement interface {
	Enforcement() enforce.Status
}

// AgentStats are the agent's cumulative counters, sampled for rates.
type AgentStats struct {
	Events        uint64 `json:"events"`
	KernelDrops   uint64 `json:"kernel_drops"`
	PipelineDrops uint64 `json:"pipeline_drops"`
	AlertsDropped uint64 `json:"alerts_dropped"`
}

// Stats reads the agent's counters.
type Stats interface {
	AgentStats() AgentStats
}

// Sources connect the server to the agent.
type Sources struct {
	Flows           Flows
	Baselines       Baselines
	Processes       Processes
	Labels          Labels
	Vulnerabilities Vulnerabilities
	Enforcement     Enforcement
	Stats           Stats
	// WorkloadOf names the workload (id and Kubernetes namespace) an
	// alert is about, for filtering and for the map; nil reads the
	// baseline's workload field and the alert's Kubernetes identity.
	WorkloadOf func(a *alert.Alert) (id, namespace string)
}
