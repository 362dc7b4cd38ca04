package k8s

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vigilsec/vigil/internal/container"
)

// ownerCache finds the workload behind a pod's controller. A Deployment's
// pods are owned by a ReplicaSet and a CronJob's by a Job, so those two
// kinds need one API read each, cached by namespace and name; watching
// every ReplicaSet in the cluster instead would cost far more memory.
type ownerCache struct {
	client  kubernetes.Interface
	timeout time.Duration
	max     int

	mu      sync.Mutex
	parents map[string]string // "ns/Kind/name" -> the owner's owner name

	lookups, errors atomic.Uint64
}

func newOwnerCache(c kubernetes.Interface, timeout time.Duration, max int) *ownerCache {
	return &ownerCache{client: c, timeout: timeout, max: max, parents: map[string]string{}}
}

func (o *ownerCache) stats() (uint64, uint64) { return o.lookups.Load(), o.errors.Load() }

// resolve returns the pod's owners by kind.
func (o *ownerCache) resolve(ctx context.Context, p *corev1.Pod) container.Owner {
	var out container.Owner
	ref := metav1.GetControllerOf(p)
	if ref == nil {
		return out
	}
	switch ref.Kind {
	case "ReplicaSet":
		out.ReplicaSet = ref.Name
		out.Deployment = o.parent(ctx, p, ref.Kind, ref.Name)
	case "Job":
		out.Job = ref.Name
		out.CronJob = o.parent(ctx, p, ref.Kind, ref.Name)
	case "DaemonSet":
		out.DaemonSet = ref.Name
	case "StatefulSet":
		out.StatefulSet = ref.Name
	case "ReplicationController":
		out.ReplicationController = ref.Name
	}
	return out
}

// parent reads a ReplicaSet or Job to find its controller's name.
func (o *ownerCache) parent(ctx context.Context, p *corev1.Pod, kind, name string) string {
	key := p.Namespace + "/" + kind + "/" + name
	o.mu.Lock()
	v, ok := o.parents[key]
	o.mu.Unlock()
	if ok {
		return v
	}
	o.lookups.Add(1)
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	var meta *metav1.ObjectMeta
	var err error
	switch kind {
	case "ReplicaSet":
		rs, e := o.client.AppsV1().ReplicaSets(p.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err = e; e == nil {
			meta = &rs.ObjectMeta
		}
	case "Job":
		job, e := o.client.BatchV1().Jobs(p.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err = e; e == nil {
			meta = &job.ObjectMeta
		}
	}
	if err != nil {
		o.errors.Add(1)
		v = guessParent(p, kind, name)
	} else if ref := metav1.GetControllerOf(meta); ref != nil {
		v = ref.Name
	}
	o.mu.Lock()
	if len(o.parents) >= o.max {
		clear(o.parents) // owners rarely change; refilling is cheap
	}
	o.parents[key] = v
	o.mu.Unlock()
	return v
}

// guessParent names a ReplicaSet's Deployment without the API, as the
// Deployment controller names ReplicaSets: <deployment>-<pod-template-hash>,
// the hash also being a label of every pod it creates.
func guessParent(p *corev1.Pod, kind, name string) string {
	if kind != "ReplicaSet" {
		return ""
	}
	hash := p.Labels["pod-template-hash"]
	if d, ok := strings.CutSuffix(name, "-"+hash); ok && hash != "" {
		return d
	}
	return ""
}
