package container

import (
	"context"
	"errors"
)

// ErrNotFound is what a Source returns for a container it does not run.
var ErrNotFound = errors.New("container not found")

// Source is a container runtime's metadata API: the Docker Engine API, the
// Docker-compatible API of podman, and later CRI. Its methods are called
// from the resolver's own goroutines, never from the event path; each call
// is given a context with a deadline.
type Source interface {
	// Runtime is the runtime this source describes.
	Runtime() Runtime
	// Name identifies the source in logs, e.g. "docker at /var/run/docker.sock".
	Name() string
	// List returns the ids of the running containers.
	List(ctx context.Context) ([]string, error)
	// Inspect returns the metadata of one container, or ErrNotFound. The
	// returned Info belongs to the caller.
	Inspect(ctx context.Context, id string) (*Info, error)
	// Watch streams the runtime's container events to fn until ctx ends
	// or the stream breaks, and returns why. It calls fn with
	// ActionConnected once the stream is established, so that the caller
	// can list what it may have missed before.
	Watch(ctx context.Context, fn func(RuntimeEvent)) error
}

// Action is what happened to a container.
type Action uint8

// Actions the resolver reacts to. Runtimes' other actions are not reported.
const (
	ActionConnected Action = iota // the event stream is open (ID is empty)
	ActionCreate                  // created: metadata exists, no process yet
	ActionStart                   // started: pid and start time now exist
	ActionUpdate                  // renamed or updated: metadata changed
	ActionDie                     // its processes ended
	ActionDestroy                 // removed
)

// RuntimeEvent is one event of a runtime's stream.
type RuntimeEvent struct {
	ID     string
	Action Action
}

// PodSource gives Kubernetes pod metadata beyond what kubelet's labels say
// (labels, annotations, owner, service account), for example from the API
// server. It is optional.
type PodSource interface {
	// Pod returns the pod with this uid, or nil. The resolver does not
	// modify it.
	Pod(uid string) *Pod
	// Subscribe registers fn to be called with a pod's uid whenever that
	// pod is added or changes.
	Subscribe(fn func(uid string))
}
