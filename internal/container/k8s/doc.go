// Package k8s adds Kubernetes API metadata to the pods whose containers
// run on this node: pod labels and annotations, the owning workload
// (Deployment through its ReplicaSet, DaemonSet, StatefulSet, Job and its
// CronJob), the service account and the node. It watches only this node's
// pods (field selector spec.nodeName=<node>) through a client-go informer.
//
// The API is never required: the resolver already knows a pod's name,
// namespace and uid from kubelet's container labels, and a Watcher that
// cannot reach the API server only leaves those fields as they are.
//
// Watcher implements container.PodSource.
package k8s
