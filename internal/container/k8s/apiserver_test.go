package k8s

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fakeAPIServer speaks the few API server answers the watcher needs, as
// JSON over HTTP: the pod list (recording the field selector it was asked
// for), a watch that stays open with no events, and one ReplicaSet.
type fakeAPIServer struct {
	mu        sync.Mutex
	selectors []string
}

func (s *fakeAPIServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	q := r.URL.Query()
	switch {
	case r.URL.Path == "/api/v1/pods" && q.Get("watch") == "true":
		if q.Get("sendInitialEvents") == "true" {
			// An API server without streaming lists refuses; client-go
			// then falls back to list and watch.
			reply(w, http.StatusBadRequest, metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
				Status: "Failure", Reason: metav1.StatusReasonBadRequest, Code: 400})
			return
		}
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	case r.URL.Path == "/api/v1/pods":
		s.mu.Lock()
		s.selectors = append(s.selectors, q.Get("fieldSelector"))
		s.mu.Unlock()
		p := pod("web-7d9f-abcde", "uid-web", node, controller("ReplicaSet", "web-7d9f"), map[string]string{"app": "web"})
		reply(w, http.StatusOK, &corev1.PodList{
			TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"},
			ListMeta: metav1.ListMeta{ResourceVersion: "10"},
			Items:    []corev1.Pod{*p},
		})
	case r.URL.Path == "/apis/apps/v1/namespaces/shop/replicasets/web-7d9f":
		reply(w, http.StatusOK, &appsv1.ReplicaSet{
			TypeMeta:   metav1.TypeMeta{Kind: "ReplicaSet", APIVersion: "apps/v1"},
			ObjectMeta: metav1.ObjectMeta{Name: "web-7d9f", Namespace: "shop", OwnerReferences: controller("Deployment", "web")},
		})
	default:
		reply(w, http.StatusNotFound, metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
			Status: "Failure", Reason: metav1.StatusReasonNotFound, Code: 404})
	}
}

// TestWatcherKubeconfig goes through a kubeconfig file to a local server
// speaking the API's JSON.
func TestWatcherKubeconfig(t *testing.T) {
	api := &fakeAPIServer{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: %q}}]
users: [{name: test, user: {token: test-token}}]
contexts: [{name: test, context: {cluster: test, user: test}}]
current-context: test
`, srv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}

	w, err := New(Config{NodeName: node, Kubeconfig: kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if !w.WaitSynced(ctx) {
		t.Fatal("informer did not sync against the local API server")
	}
	p := w.Pod("uid-web")
	if p == nil || p.Owner.Deployment != "web" || p.Labels["app"] != "web" {
		t.Fatalf("pod from the API server: %+v", p)
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	if len(api.selectors) == 0 || api.selectors[0] != "spec.nodeName="+node {
		t.Errorf("pod list field selectors %q, want spec.nodeName=%s", api.selectors, node)
	}
}

// reply answers with v as JSON. A failed write means the client hung up,
// which the test sees as metadata that never arrives.
func reply(w http.ResponseWriter, code int, v any) {
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
