package criapi

import (
	"encoding/json"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// maxInfo bounds the verbose info JSON of one container. It holds the OCI
// spec, a few tens of kilobytes with a seccomp profile.
const maxInfo = 8 << 20

// RuntimeInfo is what Vigil reads from the "info" entry of a verbose
// ContainerStatus. The two runtimes write different documents:
//
//	CRI-O:      {"sandboxID", "pid", "runtimeSpec", "privileged"}
//	containerd: {"sandboxID", "pid", "removing", "snapshotKey", "snapshotter",
//	             "runtimeType", "runtimeOptions", "config", "runtimeSpec"}
//
// where containerd's "config" is the CRI ContainerConfig the kubelet sent,
// encoded with the proto field names (linux.security_context.privileged).
type RuntimeInfo struct {
	SandboxID   string      `json:"sandboxID"`
	PID         uint32      `json:"pid"`
	RuntimeSpec *specs.Spec `json:"runtimeSpec"`
	// Privileged is CRI-O's flag or containerd's config flag.
	Privileged bool
}

type rawInfo struct {
	SandboxID   string      `json:"sandboxID"`
	PID         int64       `json:"pid"`
	RuntimeSpec *specs.Spec `json:"runtimeSpec"`
	Privileged  *bool       `json:"privileged"`
	Config      *struct {
		Linux *struct {
			SecurityContext *struct {
				Privileged bool `json:"privileged"`
			} `json:"security_context"`
		} `json:"linux"`
	} `json:"config"`
}

// ParseInfo decodes a runtime's verbose container info.
func ParseInfo(data []byte) (*RuntimeInfo, error) {
	if len(data) > maxInfo {
		return nil, fmt.Errorf("cri info: %d bytes, more than the %d accepted", len(data), maxInfo)
	}
	var r rawInfo
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("cri info: %w", err)
	}
	if r.PID < 0 || r.PID > 1<<22 { // PID_MAX_LIMIT
		return nil, fmt.Errorf("cri info: pid %d out of range", r.PID)
	}
	info := &RuntimeInfo{SandboxID: r.SandboxID, PID: uint32(r.PID), RuntimeSpec: r.RuntimeSpec}
	switch {
	case r.Privileged != nil:
		info.Privileged = *r.Privileged
	case r.Config != nil && r.Config.Linux != nil && r.Config.Linux.SecurityContext != nil:
		info.Privileged = r.Config.Linux.SecurityContext.Privileged
	}
	return info, nil
}
