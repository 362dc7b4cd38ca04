package alert

import (
	"strings"
	"time"
)

// Alert is one rule match, or a finding of the agent itself. Its JSON
// form (AppendJSON) is Falco's JSON output plus a fixed context block that
// does not depend on the rule's output template and, for rules with an
// action, an enforcement block.
type Alert struct {
	Time     time.Time
	Rule     string
	Priority string
	// Source is the rule's event source ("syscall"), or "internal" for
	// alerts the agent raises about itself, as Falco names its own.
	Source   string
	Hostname string
	// Output is the rule's output template rendered for the event, without
	// the time and priority that Falco's "output" property starts with.
	Output string
	Tags   []string
	// OutputFields holds the value of every field the template uses, by
	// the name it is written with: strings, numbers, booleans, and nil
	// where the event has no value (rendered <NA>).
	OutputFields map[string]any
	Context      Context
	// Enforcement says what Vigil did about the match, for rules with an
	// action; nil for alert-only rules.
	Enforcement *Enforcement
}

// InternalSource is the source of alerts the agent raises about itself
// (kernel drops, rate-limit summaries, the vulnerability watch, failed
// enforcement decisions), the name Falco gives its own alerts.
const InternalSource = "internal"

// Enforcement is the outcome of a rule's action.
type Enforcement struct {
	// Action is the rule's action: block, kill or kill-container.
	Action string `json:"action"`
	// Mode is enforce or audit.
	Mode string `json:"mode"`
	// Outcome is what happened: blocked, killed, container-killed, or in
	// audit mode would-block, would-kill, would-kill-container; failed
	// when the action could not be carried out (see Error), and
	// fail-open/fail-closed when the decision itself failed.
	Outcome string `json:"outcome"`
	// Mechanism is how: fanotify, cgroup-sock-addr, bpf-send-signal,
	// pidfd or the container runtime's API.
	Mechanism string `json:"mechanism"`
	// ReactionNS is the time from the kernel event to the action, for
	// actions taken after detection.
	ReactionNS int64 `json:"reaction_ns,omitempty"`
	// Error explains a failed outcome.
	Error string `json:"error,omitempty"`
}

// Context identifies the process an alert is about, whatever the
// rule chose to print.
type Context struct {
	Process  Process  `json:"process"`
	Identity Identity `json:"identity"`
	// Workload is the workload the process belongs to (the identity
	// baselines are kept under); nil when none could be named.
	Workload *Workload `json:"workload,omitempty"`
}

// Workload names a workload: every replica and restart of a Deployment,
// or of a named container, share it (docs/baselines.md).
type Workload struct {
	// ID is the stable identity, e.g. k8s/shop/deployment/web/app.
	ID string `json:"id"`
	// Name describes it for people, e.g. "deployment shop/web, container app".
	Name string `json:"name"`
}

// Process is the process and its ancestry.
type Process struct {
	PID     uint32 `json:"pid"`
	PPID    uint32 `json:"ppid"`
	ExePath string `json:"exepath"`
	Cmdline string `json:"cmdline"`
	// Ancestors are the ancestors' names, parent first.
	Ancestors []string `json:"ancestors"`
}

// Identity is who the process runs as and where.
type Identity struct {
	User        string `json:"user"`
	UID         uint32 `json:"uid"`
	CgroupID    uint64 `json:"cgroup_id"`
	ContainerID string `json:"container_id"`
	// The workload, when the process runs in a container (and a pod).
	ContainerName string `json:"container_name,omitempty"`
	Image         string `json:"image,omitempty"`
	Pod           string `json:"k8s_pod,omitempty"`
	Namespace     string `json:"k8s_ns,omitempty"`
}

// AppendText renders the alert as one line for people:
// "2024-05-01T10:00:00.123456789Z Warning Rule name: output".
func (a *Alert) AppendText(dst []byte) []byte {
	dst = a.Time.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(append(dst, ' '), a.Priority...)
	dst = append(append(dst, ' '), a.Rule...)
	dst = append(append(dst, ": "...), oneLine(a.Output)...)
	return append(dst, '\n')
}

// oneLine keeps a rendered output on one line: folded YAML templates may
// carry a trailing newline.
func oneLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if strings.IndexByte(s, '\n') < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\n", " ")
}
