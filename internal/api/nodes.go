package api

import (
	"path"
	"strings"

	"github.com/vigilsec/vigil/internal/flows"
	"github.com/vigilsec/vigil/internal/workload"
)

// How workloads are grouped and named on the map and in lists.

// Group kinds.
const (
	groupNamespace  = "namespace"
	groupHost       = "host"
	groupContainers = "containers"
	groupExternal   = "external"
)

// MapGroup is a box of nodes on the map: a Kubernetes namespace, the
// host's processes, plain containers, or what lies outside the node.
type MapGroup struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	Name string `json:"name"`
}

func groupOf(w *workload.Workload) MapGroup {
	switch w.Kind {
	case workload.KindK8s:
		return MapGroup{ID: "ns:" + w.Namespace, Kind: groupNamespace, Name: w.Namespace}
	case workload.KindImage:
		return MapGroup{ID: "containers", Kind: groupContainers, Name: "containers"}
	}
	return MapGroup{ID: "host", Kind: groupHost, Name: "host"}
}

var externalGroup = MapGroup{ID: "external", Kind: groupExternal, Name: "outside the node"}

// labelOf is a short name for a workload on the map.
func labelOf(w *workload.Workload) string {
	switch w.Kind {
	case workload.KindK8s:
		if w.Container == w.Owner {
			return w.Owner
		}
		return w.Owner + "/" + w.Container
	case workload.KindImage:
		return w.Container
	case workload.KindUnit:
		return strings.TrimSuffix(w.Unit, ".service")
	case workload.KindExe:
		return path.Base(w.Exe)
	}
	return w.ID
}

// WorkloadRef identifies a workload in responses.
type WorkloadRef struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Label     string `json:"label"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Group     string `json:"group"`
	Inferred  bool   `json:"inferred,omitempty"`
}

func refOf(w *workload.Workload) WorkloadRef {
	return WorkloadRef{ID: w.ID, Name: w.Name, Label: labelOf(w), Kind: w.Kind.String(), Namespace: w.Namespace,
		Group: groupOf(w).ID, Inferred: w.Inferred}
}

// endpointNode describes a flow's endpoint as a map node.
func endpointNode(e *flows.Endpoint) MapNode {
	if e.Kind == flows.KindWorkload {
		ref := refOf(e.Workload)
		return MapNode{ID: e.ID, Kind: "workload", Label: ref.Label, Name: ref.Name, Group: ref.Group,
			WorkloadKind: ref.Kind, Namespace: ref.Namespace, Listening: []MapListen{}}
	}
	n := MapNode{ID: e.ID, Kind: e.Kind.String(), Group: externalGroup.ID, Scope: e.Scope, NameKind: e.NameKind,
		Listening: []MapListen{}}
	if e.Network.IsValid() {
		n.Network = e.Network.String()
	}
	switch {
	case e.Name != "":
		n.Label, n.Name = e.Name, e.Name
	case e.Kind == flows.KindUnknown:
		n.Label, n.Name, n.Group = "loopback", "a loopback client or server Vigil could not attribute", "host"
	default:
		n.Label, n.Name = n.Network, "addresses in "+n.Network
	}
	return n
}
