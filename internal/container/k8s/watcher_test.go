package k8s

import (
	"context"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/vigilsec/vigil/internal/container"
)

const node = "node-a"

func controller(kind, name string) []metav1.OwnerReference {
	yes := true
	return []metav1.OwnerReference{{Kind: kind, Name: name, Controller: &yes, APIVersion: "apps/v1"}}
}

func pod(name, uid, nodeName string, owners []metav1.OwnerReference, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "shop", UID: types.UID(uid), Labels: labels,
			Annotations: map[string]string{"note": "x"}, OwnerReferences: owners,
		},
		Spec: corev1.PodSpec{NodeName: nodeName, ServiceAccountName: "web-sa"},
	}
}

// fixtures is a small cluster: a Deployment's pod, a CronJob's pod, a
// DaemonSet's and a StatefulSet's pod on this node, a bare pod on another
// node, and a pod whose ReplicaSet the API does not have.
func fixtures() []runtime.Object {
	return []runtime.Object{
		&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-7d9f", Namespace: "shop", OwnerReferences: controller("Deployment", "web")}},
		&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "report-2901", Namespace: "shop", OwnerReferences: controller("CronJob", "report")}},
		pod("web-7d9f-abcde", "uid-web", node, controller("ReplicaSet", "web-7d9f"), map[string]string{"app": "web", "pod-template-hash": "7d9f"}),
		pod("report-2901-xyz", "uid-job", node, controller("Job", "report-2901"), nil),
		pod("agent-q8", "uid-ds", node, controller("DaemonSet", "agent"), nil),
		pod("db-0", "uid-sts", node, controller("StatefulSet", "db"), nil),
		pod("elsewhere", "uid-other", "node-b", nil, nil),
		pod("api-5c8b-pq", "uid-guess", node, controller("ReplicaSet", "api-5c8b"), map[string]string{"pod-template-hash": "5c8b"}),
	}
}

func startFake(t *testing.T, objs ...runtime.Object) (*Watcher, *fake.Clientset) {
	t.Helper()
	client := fake.NewClientset(objs...)
	w, err := New(Config{NodeName: node, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	defer scancel()
	if !w.WaitSynced(sctx) {
		t.Fatal("informer did not sync")
	}
	return w, client
}

func TestWatcherOwners(t *testing.T) {
	w, _ := startFake(t, fixtures()...)
	for _, tc := range []struct {
		uid  string
		want container.Owner
	}{
		{"uid-web", container.Owner{ReplicaSet: "web-7d9f", Deployment: "web"}},
		{"uid-job", container.Owner{Job: "report-2901", CronJob: "report"}},
		{"uid-ds", container.Owner{DaemonSet: "agent"}},
		{"uid-sts", container.Owner{StatefulSet: "db"}},
		// The ReplicaSet cannot be read: the Deployment is named from the
		// pod-template-hash convention.
		{"uid-guess", container.Owner{ReplicaSet: "api-5c8b", Deployment: "api"}},
	} {
		p := w.Pod(tc.uid)
		if p == nil {
			t.Errorf("pod %s not known", tc.uid)
			continue
		}
		if p.Owner != tc.want {
			t.Errorf("pod %s owner %+v, want %+v", tc.uid, p.Owner, tc.want)
		}
	}
	p := w.Pod("uid-web")
	if p.Name != "web-7d9f-abcde" || p.Namespace != "shop" || p.ServiceAccount != "web-sa" || p.NodeName != node ||
		p.Labels["app"] != "web" || p.Annotations["note"] != "x" || !p.FromAPI {
		t.Errorf("pod metadata %+v", p)
	}
	if w.Pod("uid-other") != nil {
		t.Error("a pod of another node was kept")
	}
	if s := w.Stats(); s.Pods != 5 || s.OwnerErrors != 1 {
		t.Errorf("stats %+v", s)
	}
}

// TestWatcherFeedsResolver checks the PodSource contract: a pod that shows
// up after its container was identified is merged into the container's
// identity, keeping the container name that only kubelet's labels carry.
func TestWatcherFeedsResolver(t *testing.T) {
	w, client := startFake(t)
	var mu sync.Mutex
	var notified []string
	w.Subscribe(func(uid string) {
		mu.Lock()
		notified = append(notified, uid)
		mu.Unlock()
	})
	p := pod("web-7d9f-abcde", "uid-late", node, controller("ReplicaSet", "web-7d9f"), map[string]string{"app": "web"})
	if _, err := client.CoreV1().Pods("shop").Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for w.Pod("uid-late") == nil {
		if time.Now().After(deadline) {
			t.Fatal("created pod never seen")
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notified) != 1 || notified[0] != "uid-late" {
		t.Errorf("subscribers told %v", notified)
	}
}

func TestNewNeedsNode(t *testing.T) {
	if _, err := New(Config{Client: fake.NewClientset()}); err == nil {
		t.Error("a watcher without a node name would watch the whole cluster")
	}
	if _, err := New(Config{NodeName: node, Kubeconfig: "/nonexistent/kubeconfig"}); err == nil {
		t.Error("a missing kubeconfig was accepted")
	}
}
