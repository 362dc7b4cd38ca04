package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/testutil"
)

// TestRunAlertNamesTheContainer reads a shadow file inside a container
// started after the agent: the alert names the container, its image and
// the pod its kubelet labels describe, in the output and the context block.
func TestRunAlertNamesTheContainer(t *testing.T) {
	testutil.RequireBPF(t)
	testutil.RequireDocker(t)
	bin := vigilBinary(t)
	cmd := exec.Command(bin, "run", "--duration", "60s")
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer testutil.KillAndWait(cmd)
	sc := bufio.NewScanner(stderr)
	for !strings.Contains(sc.Text(), "running") {
		if !sc.Scan() {
			t.Fatal("vigil run did not start")
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }() // keeps the child from blocking on a full pipe

	name := "vigil-alert-" + time.Now().Format("150405.000000")
	name = strings.ReplaceAll(name, ".", "")
	out, err := exec.Command("/usr/bin/docker", "create", "--name", name,
		"--label", "io.kubernetes.pod.name=web-7f9c", "--label", "io.kubernetes.pod.namespace=shop",
		"--label", "io.kubernetes.pod.uid=0b7e1c2a-1111-2222-3333-444455556666", "--label", "io.kubernetes.container.name=web",
		"vigil-test/busybox:1", "sh", "-c", "echo x > /etc/shadow; cat /etc/shadow").Output()
	if err != nil {
		t.Fatalf("docker create: %v", err)
	}
	id := strings.TrimSpace(string(out))
	testutil.RunOnCleanup(t, "/usr/bin/docker", "rm", "-f", id)
	if out, err := exec.Command("/usr/bin/docker", "start", "-a", id).CombinedOutput(); err != nil {
		t.Fatalf("docker start: %v %s", err, out)
	}

	lines := bufio.NewScanner(stdout)
	lines.Buffer(nil, 1<<20)
	done := make(chan map[string]any)
	go func() {
		for lines.Scan() {
			var a map[string]any
			if json.Unmarshal(lines.Bytes(), &a) == nil && strings.Contains(lines.Text(), id[:12]) &&
				a["rule"] == "Credential file read by an unexpected program" {
				done <- a
				return
			}
		}
		close(done)
	}()
	var alert map[string]any
	select {
	case alert = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("no alert from the container")
	}
	if alert == nil {
		t.Fatal("vigil run ended without an alert from the container")
	}
	if !strings.Contains(alert["output"].(string), "container="+id[:12]) {
		t.Errorf("alert %v", alert)
	}
	ident := alert["context"].(map[string]any)["identity"].(map[string]any)
	want := map[string]string{"container_id": id[:12], "container_name": name, "image": "vigil-test/busybox:1",
		"k8s_pod": "web-7f9c", "k8s_ns": "shop"}
	for k, v := range want {
		if ident[k] != v {
			t.Errorf("context.identity.%s = %v, want %q", k, ident[k], v)
		}
	}
}
