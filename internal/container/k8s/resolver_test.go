package k8s

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/container/dockerapi"
	"github.com/vigilsec/vigil/internal/testutil"
)

// TestResolverMergesAPIPod runs a real container with kubelet's labels and
// gives the resolver a watcher that knows the pod from the API: the
// container's identity carries the API's labels and owner, and the
// container name from the runtime's labels.
func TestResolverMergesAPIPod(t *testing.T) {
	testutil.RequireDocker(t)
	w, _ := startFake(t, fixtures()...)
	res := container.New(container.Config{
		Sources: []container.Source{dockerapi.New(testutil.DockerSocket, container.RuntimeDocker)},
		Pods:    w,
	})
	if err := res.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer res.Close()

	docker := "/usr/bin/docker"
	if _, err := os.Stat(docker); err != nil {
		docker = "docker"
	}
	const name = "vigil-e2e-k8s-api"
	_ = exec.Command(docker, "rm", "-f", name).Run() // a leftover of an earlier run, usually none
	testutil.RunOnCleanup(t, docker, "rm", "-f", name)
	out, err := exec.Command(docker, "run", "-d", "--name", name,
		"--label", "io.kubernetes.pod.name=web-7d9f-abcde", "--label", "io.kubernetes.pod.namespace=shop",
		"--label", "io.kubernetes.pod.uid=uid-web", "--label", "io.kubernetes.container.name=nginx",
		"vigil-test/busybox:1", "sleep", "30").CombinedOutput()
	if err != nil {
		t.Fatalf("docker run: %v\n%s", err, out)
	}
	pid, err := exec.Command(docker, "inspect", "-f", "{{.State.Pid}}", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	cg := cgroupOfPID(t, strings.TrimSpace(string(pid)))

	info, st := res.WaitFor(context.Background(), cg, 3*time.Second)
	p := info.Pod
	if st != container.StateComplete || p == nil || !p.FromAPI || p.Owner.Deployment != "web" ||
		p.ContainerName != "nginx" || p.Labels["app"] != "web" || p.ServiceAccount != "web-sa" {
		t.Fatalf("%s %+v", st, p)
	}
	if p.LabelsString() != "app:web, pod-template-hash:7d9f" {
		t.Errorf("k8s.pod.labels rendered %q", p.LabelsString())
	}
}

func cgroupOfPID(t *testing.T, pid string) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	path, _ := container.ProcCgroupV2Path(string(b))
	for _, root := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		if st, err := os.Stat(filepath.Join(root, path)); err == nil {
			return st.Sys().(*syscall.Stat_t).Ino
		}
	}
	t.Fatalf("no cgroup v2 directory for pid %s", pid)
	return 0
}
