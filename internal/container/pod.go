package container

import (
	"sort"
	"strings"
)

// Kubelet's labels on every container it creates through a runtime. They
// give pod identity without any API server.
const (
	LabelPodName       = "io.kubernetes.pod.name"
	LabelPodNamespace  = "io.kubernetes.pod.namespace"
	LabelPodUID        = "io.kubernetes.pod.uid"
	LabelContainerName = "io.kubernetes.container.name"
	LabelSandboxID     = "io.kubernetes.sandbox.id"
)

// Pod is a container's Kubernetes identity. Like Info it is immutable once
// published.
type Pod struct {
	Name          string
	Namespace     string
	UID           string
	ContainerName string // the container's name in the pod spec
	SandboxID     string // the pause container's id, when the runtime says

	// The rest comes from the Kubernetes API and is empty without it.
	Labels         map[string]string
	Annotations    map[string]string
	ServiceAccount string
	NodeName       string
	Owner          Owner
	FromAPI        bool // the API server described this pod

	labelsText string
}

// Owner is the workload that controls a pod, resolved through the owner
// chain (a Deployment's pods are owned by a ReplicaSet, a CronJob's by a
// Job). Each field is the owning object's name, "" if none.
type Owner struct {
	Deployment  string
	ReplicaSet  string
	DaemonSet   string
	StatefulSet string
	Job         string
	CronJob     string
	// ReplicationController is the legacy controller (k8s.rc.name).
	ReplicationController string
}

// PodFromLabels derives the pod identity kubelet wrote into a container's
// labels. It returns nil unless the pod's name and namespace are both
// there: a partial set is not a pod identity to report.
func PodFromLabels(labels map[string]string) *Pod {
	name, ns := labels[LabelPodName], labels[LabelPodNamespace]
	if name == "" || ns == "" {
		return nil
	}
	return &Pod{
		Name: name, Namespace: ns, UID: labels[LabelPodUID],
		ContainerName: labels[LabelContainerName], SandboxID: labels[LabelSandboxID],
	}
}

// Label returns a pod label (k8s.pod.label[key]).
func (p *Pod) Label(key string) (string, bool) {
	v, ok := p.Labels[key]
	return v, ok
}

// LabelsString renders the pod's labels as "key:value" pairs sorted by key
// and joined by ", " (k8s.pod.labels). It is computed once at publication.
func (p *Pod) LabelsString() string { return p.labelsText }

func (p *Pod) seal() {
	keys := make([]string, 0, len(p.Labels))
	for k := range p.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for n, k := range keys {
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte(':')
		b.WriteString(p.Labels[k])
	}
	p.labelsText = b.String()
}

// withContainer returns a copy of an API pod that carries the container's
// own name and sandbox, which only the runtime's labels know.
func (p *Pod) withContainer(fromLabels *Pod) *Pod {
	c := *p
	if fromLabels != nil {
		c.ContainerName, c.SandboxID = fromLabels.ContainerName, fromLabels.SandboxID
	}
	return &c
}
