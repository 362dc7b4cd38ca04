package container

// Runtime names the container engine that runs a container. Its String is
// what Falco reports as container.type.
type Runtime uint8

// Runtimes. RuntimeCRI is a Kubernetes container whose cgroup path does not
// say which CRI implementation runs it (the cgroupfs driver's bare ids under
// kubepods); RuntimeUnknown is a container id found under a parent that
// names no runtime.
const (
	RuntimeHost Runtime = iota
	RuntimeDocker
	RuntimePodman
	RuntimeContainerd
	RuntimeCRIO
	RuntimeCRI
	RuntimeUnknown
)

var runtimeNames = [...]string{"host", "docker", "podman", "containerd", "cri-o", "cri", "unknown"}

// String returns the runtime's name as Falco spells container.type.
func (r Runtime) String() string {
	if int(r) < len(runtimeNames) {
		return runtimeNames[r]
	}
	return "unknown"
}

// State says how much of a container's identity a lookup could give.
type State uint8

// States, from least to most known.
const (
	// StateUnknown: the cgroup id could not be mapped to a path yet (no
	// file-handle support and the hierarchy walk has not seen it, or the
	// cgroup is already gone). The Info is empty.
	StateUnknown State = iota
	// StateHost: the process runs outside any container. The Info is Host.
	StateHost
	// StatePending: the container id and runtime are known from the cgroup
	// path; the runtime's metadata is being fetched.
	StatePending
	// StateIDOnly: the container id and runtime are known, but the runtime
	// could not give metadata (no client for it, socket missing or
	// unresponsive, container unknown to it). It is retried later.
	StateIDOnly
	// StateComplete: the runtime's metadata is attached.
	StateComplete
)

var stateNames = [...]string{"unknown", "host", "pending", "id-only", "complete"}

// String returns the state's name.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "invalid"
}

// Final reports whether waiting longer cannot improve the answer soon: the
// metadata is there, the process is on the host, or the runtime failed.
func (s State) Final() bool { return s == StateHost || s == StateComplete || s == StateIDOnly }
