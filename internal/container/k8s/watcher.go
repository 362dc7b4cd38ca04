package k8s

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/vigilsec/vigil/internal/container"
)

// Config configures a Watcher.
type Config struct {
	// NodeName is this node's name; only its pods are watched. Required.
	NodeName string
	// Kubeconfig is a kubeconfig file to use; "" means the in-cluster
	// configuration (the pod's service account).
	Kubeconfig string
	// Client is used instead of building one from Kubeconfig (tests, or a
	// caller that has its own).
	Client kubernetes.Interface
	// Resync is the informer's resync period (10 minutes).
	Resync time.Duration
	// RequestTimeout bounds each owner lookup (2s).
	RequestTimeout time.Duration
	// Logger receives failures; nil means slog.Default().
	Logger *slog.Logger
}

// Stats are a Watcher's counters.
type Stats struct {
	Pods                 int // pods known now
	Adds, Updates, Drops uint64
	OwnerLookups         uint64 // API reads of a ReplicaSet or Job to find its owner
	OwnerErrors          uint64 // of which failed (the owner is then guessed or left empty)
}

// Watcher keeps this node's pods in memory as container.Pod values.
type Watcher struct {
	cfg    Config
	client kubernetes.Interface
	log    *slog.Logger
	owners *ownerCache

	mu     sync.RWMutex
	pods   map[string]*container.Pod // by uid
	subs   []func(uid string)
	synced func() bool

	adds, updates, drops atomic.Uint64
}

// New builds a Watcher. It fails when there is no client configuration (no
// kubeconfig and not running in a cluster) or no node name: the caller then
// runs without API metadata.
func New(cfg Config) (*Watcher, error) {
	if cfg.NodeName == "" {
		return nil, errors.New("k8s: a node name is needed to watch this node's pods")
	}
	if cfg.Resync <= 0 {
		cfg.Resync = 10 * time.Minute
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	client := cfg.Client
	if client == nil {
		rc, err := restConfig(cfg.Kubeconfig)
		if err != nil {
			return nil, err
		}
		if client, err = kubernetes.NewForConfig(rc); err != nil {
			return nil, err
		}
	}
	w := &Watcher{cfg: cfg, client: client, log: cfg.Logger, pods: map[string]*container.Pod{}}
	w.owners = newOwnerCache(client, cfg.RequestTimeout, 1024)
	return w, nil
}

// restConfig loads a kubeconfig file, or the in-cluster configuration.
func restConfig(kubeconfig string) (*rest.Config, error) {
	var rc *rest.Config
	var err error
	if kubeconfig != "" {
		rc, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	} else {
		rc, err = rest.InClusterConfig()
	}
	if err != nil {
		return nil, err
	}
	rc.UserAgent = "vigil"
	return rc, nil
}

// Start runs the informer until ctx ends. It does not wait for the first
// listing; see WaitSynced.
func (w *Watcher) Start(ctx context.Context) error {
	selector := fields.OneTermEqualSelector("spec.nodeName", w.cfg.NodeName).String()
	factory := informers.NewSharedInformerFactoryWithOptions(w.client, w.cfg.Resync,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = selector }))
	inf := factory.Core().V1().Pods().Informer()
	// The informer keeps whole pods; managed fields are most of a pod's
	// size and nothing here reads them.
	if err := inf.SetTransform(func(obj any) (any, error) {
		if p, ok := obj.(*corev1.Pod); ok {
			p.ManagedFields = nil
		}
		return obj, nil
	}); err != nil {
		return err
	}
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { w.upsert(ctx, obj, &w.adds) },
		UpdateFunc: func(_, obj any) { w.upsert(ctx, obj, &w.updates) },
		DeleteFunc: w.remove,
	})
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.synced = inf.HasSynced
	w.mu.Unlock()
	factory.Start(ctx.Done())
	return nil
}

// WaitSynced waits until the first listing is in memory or ctx ends.
func (w *Watcher) WaitSynced(ctx context.Context) bool {
	w.mu.RLock()
	synced := w.synced
	w.mu.RUnlock()
	if synced == nil {
		return false
	}
	return cache.WaitForCacheSync(ctx.Done(), synced)
}

// Pod implements container.PodSource.
func (w *Watcher) Pod(uid string) *container.Pod {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.pods[uid]
}

// Subscribe implements container.PodSource.
func (w *Watcher) Subscribe(fn func(uid string)) {
	w.mu.Lock()
	w.subs = append(w.subs, fn)
	w.mu.Unlock()
}

// Stats returns the current counters.
func (w *Watcher) Stats() Stats {
	w.mu.RLock()
	n := len(w.pods)
	w.mu.RUnlock()
	lookups, errs := w.owners.stats()
	return Stats{Pods: n, Adds: w.adds.Load(), Updates: w.updates.Load(), Drops: w.drops.Load(),
		OwnerLookups: lookups, OwnerErrors: errs}
}

func (w *Watcher) upsert(ctx context.Context, obj any, counter *atomic.Uint64) {
	p, ok := obj.(*corev1.Pod)
	// The field selector already limits the watch to this node; the check
	// keeps a server that ignores it from filling the map.
	if !ok || p.Spec.NodeName != w.cfg.NodeName {
		return
	}
	counter.Add(1)
	pod := &container.Pod{
		Name: p.Name, Namespace: p.Namespace, UID: string(p.UID),
		Labels: p.Labels, Annotations: p.Annotations,
		ServiceAccount: p.Spec.ServiceAccountName, NodeName: p.Spec.NodeName,
		Owner: w.owners.resolve(ctx, p), FromAPI: true,
	}
	w.mu.Lock()
	w.pods[pod.UID] = pod
	subs := w.subs
	w.mu.Unlock()
	for _, fn := range subs {
		fn(pod.UID)
	}
}

func (w *Watcher) remove(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	w.drops.Add(1)
	w.mu.Lock()
	delete(w.pods, string(p.UID))
	w.mu.Unlock()
}
