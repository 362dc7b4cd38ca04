package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/testutil"
)

// apiServer answers the few requests the pod informer makes, in the API's
// JSON: this node's pod list, a watch that stays open, and the ReplicaSet
// that leads to the pod's Deployment. It records the field selectors it
// was asked for.
type apiServer struct {
	node, uid string
	selectors chan string
}

func (s *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	q := r.URL.Query()
	yes := true
	owner := func(kind, name string) []metav1.OwnerReference {
		return []metav1.OwnerReference{{Kind: kind, Name: name, Controller: &yes, APIVersion: "apps/v1"}}
	}
	switch {
	case r.URL.Path == "/api/v1/pods" && q.Get("watch") == "true":
		if q.Get("sendInitialEvents") == "true" { // no streaming lists: client-go falls back
			reply(w, http.StatusBadRequest, metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
				Status: "Failure", Reason: metav1.StatusReasonBadRequest, Code: 400})
			return
		}
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	case r.URL.Path == "/api/v1/pods":
		select {
		case s.selectors <- q.Get("fieldSelector"):
		default:
		}
		pod := corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "web-7d9f-abcde", Namespace: "shop", UID: types.UID(s.uid),
				Labels: map[string]string{"app": "checkout", "tier": "front"}, OwnerReferences: owner("ReplicaSet", "web-7d9f")},
			Spec: corev1.PodSpec{NodeName: s.node, ServiceAccountName: "web-sa"},
		}
		reply(w, http.StatusOK, &corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"},
			ListMeta: metav1.ListMeta{ResourceVersion: "10"}, Items: []corev1.Pod{pod}})
	case r.URL.Path == "/apis/apps/v1/namespaces/shop/replicasets/web-7d9f":
		reply(w, http.StatusOK, &appsv1.ReplicaSet{TypeMeta: metav1.TypeMeta{Kind: "ReplicaSet", APIVersion: "apps/v1"},
			ObjectMeta: metav1.ObjectMeta{Name: "web-7d9f", Namespace: "shop", OwnerReferences: owner("Deployment", "web")}})
	default:
		reply(w, http.StatusNotFound, metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
			Status: "Failure", Reason: metav1.StatusReasonNotFound, Code: 404})
	}
}

// reply answers with v as JSON. A failed write means the agent hung up,
// which the test sees as metadata that never arrives.
func reply(w http.ResponseWriter, code int, v any) {
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// TestRunKubernetesPodMetadata runs `vigil run` with kubernetes.enabled
// against a local server speaking the API's JSON, with the node name from
// NODE_NAME as a DaemonSet's Downward API sets it. A container carrying
// kubelet's labels for that pod raises an alert whose output has the pod's
// labels and its Deployment, which only the API knows.
func TestRunKubernetesPodMetadata(t *testing.T) {
	testutil.RequireBPF(t)
	testutil.RequireDocker(t)
	bin := vigilBinary(t)
	const node, uid = "node-a", "7c1d2e3f-aaaa-bbbb-cccc-000011112222"
	api := &apiServer{node: node, uid: uid, selectors: make(chan string, 1)}
	srv := httptest.NewServer(api)
	defer srv.Close()

	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	write(t, kubeconfig, fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: %q}}]
users: [{name: test, user: {token: test-token}}]
contexts: [{name: test, context: {cluster: test, user: test}}]
current-context: test
`, srv.URL))
	cfg := filepath.Join(dir, "vigil.yaml")
	write(t, cfg, "kubernetes:\n  enabled: true\n  kubeconfig: "+kubeconfig+"\n")
	rules := filepath.Join(dir, "rules.yaml")
	write(t, rules, `- rule: Marker read in a pod
  desc: test rule printing the API's pod metadata
  condition: evt.type in (open, openat) and fd.name = /vigil-k8s-marker and container.id != host
  output: app=%k8s.pod.label[app] deployment=%k8s.deployment.name ns=%k8s.ns.name sa=%k8s.pod.serviceaccount node=%k8s.node.name
  priority: WARNING
`)

	cmd := exec.Command(bin, "run", "--config", cfg, "--rules", rules, "--duration", "90s")
	cmd.Env = append(os.Environ(), "NODE_NAME="+node)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer testutil.KillAndWait(cmd)
	var log strings.Builder
	sc := bufio.NewScanner(stderr)
	for !strings.Contains(sc.Text(), "running") {
		if !sc.Scan() {
			t.Fatalf("vigil run did not start:\n%s", log.String())
		}
		log.WriteString(sc.Text() + "\n")
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }() // keeps the child from blocking on a full pipe
	if !strings.Contains(log.String(), "watching this node's pods") {
		t.Errorf("start-up log does not say the pods are watched:\n%s", log.String())
	}
	select {
	case sel := <-api.selectors:
		if sel != "spec.nodeName="+node {
			t.Errorf("pod list field selector %q, want spec.nodeName=%s", sel, node)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the agent never listed pods")
	}

	out, err := exec.Command("/usr/bin/docker", "run", "-d",
		"--label", "io.kubernetes.pod.name=web-7d9f-abcde", "--label", "io.kubernetes.pod.namespace=shop",
		"--label", "io.kubernetes.pod.uid="+uid, "--label", "io.kubernetes.container.name=web",
		"vigil-test/busybox:1", "sh", "-c", "sleep 1; echo x > /vigil-k8s-marker; cat /vigil-k8s-marker; sleep 2").Output()
	if err != nil {
		t.Fatalf("docker run: %v", err)
	}
	id := strings.TrimSpace(string(out))
	testutil.RunOnCleanup(t, "/usr/bin/docker", "rm", "-f", id)

	want := "app=checkout deployment=web ns=shop sa=web-sa node=" + node
	lines := bufio.NewScanner(stdout)
	lines.Buffer(nil, 1<<20)
	found := make(chan string, 1)
	go func() {
		for lines.Scan() {
			var a struct{ Rule, Priority, Output string }
			if json.Unmarshal(lines.Bytes(), &a) == nil && a.Rule == "Marker read in a pod" {
				found <- alert.StripPrefix(a.Output, a.Priority) // Falco's "time: Priority " prefix
				return
			}
		}
	}()
	select {
	case got := <-found:
		if got != want {
			t.Fatalf("alert output %q, want %q", got, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no alert for the marker read")
	}
}
