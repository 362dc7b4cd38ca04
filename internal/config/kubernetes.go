package config

import "strings"

// Kubernetes turns on the pod informer, which adds the API server's view of
// this node's pods to events and alerts: pod labels and annotations
// (k8s.pod.label[...]), the owning workload (k8s.deployment.name through the
// ReplicaSet, k8s.cronjob.name through the Job, and the others) and the
// service account. Without it, kubelet's
// container labels still give the pod's name, namespace and uid.
type Kubernetes struct {
	Enabled bool `yaml:"enabled"`
	// NodeName is this node's name: only its pods are watched. Empty takes
	// NODE_NAME from the environment, which a DaemonSet sets from the
	// Downward API (spec.nodeName).
	NodeName string `yaml:"node_name"`
	// Kubeconfig is a kubeconfig file; empty means the in-cluster
	// configuration (the pod's service account token).
	Kubeconfig string `yaml:"kubeconfig"`
}

// NodeNameEnv is the variable the node name is read from when
// kubernetes.node_name is empty.
const NodeNameEnv = "NODE_NAME"

// applyNodeName fills kubernetes.node_name from NODE_NAME in environ when
// the file and VIGIL_* variables left it empty.
func (k *Kubernetes) applyNodeName(environ []string) {
	if k.NodeName != "" {
		return
	}
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, NodeNameEnv+"="); ok {
			k.NodeName = v
		}
	}
}

func (k Kubernetes) validate(bad func(key, format string, args ...any)) {
	if k.Enabled && k.NodeName == "" {
		bad("kubernetes.node_name", "must be set when kubernetes is enabled (or set %s, e.g. from the Downward API's spec.nodeName)", NodeNameEnv)
	}
}
