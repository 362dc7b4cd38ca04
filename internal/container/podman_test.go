package container_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/container/dockerapi"
	"github.com/vigilsec/vigil/internal/testutil"
)

// startPodmanService runs podman's API service on a socket of the test's
// own and stops it at cleanup.
func startPodmanService(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "podman.sock")
	cmd := exec.Command("podman", append(podmanGlobal, "system", "service", "--time=0", "unix://"+sock)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.KillAndWait(cmd) })
	c := dockerapi.New(sock, container.RuntimePodman)
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx)
		cancel()
		if err == nil {
			return sock
		}
		if time.Now().After(deadline) {
			t.Fatalf("podman system service did not answer on %s: %v", sock, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPodmanWithAgent identifies a podman container through podman's
// Docker-compatible API, from its first exec.
func TestPodmanWithAgent(t *testing.T) {
	testutil.RequirePodman(t)
	testutil.RequireBPF(t)
	sock := startPodmanService(t)
	h := startHarness(t, container.Config{
		Sources: []container.Source{dockerapi.New(sock, container.RuntimePodman)},
	})
	// The machine lacks CAP_SYS_RESOURCE, so podman must not raise limits.
	id, pid := runContainer(t, "podman", "vigil-e2e-podman",
		"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--label", "stage=podman",
		image, "sleep", "60")
	cg := cgroupOf(t, pid)
	cli(t, "podman", append(podmanGlobal, "exec", "vigil-e2e-podman", "cat", "/etc/hostname")...)

	first := h.execs(t, "the podman container", func(r *record) bool { return r.cgroupID == cg })[0]
	if first.info.ID != id || first.info.Runtime != container.RuntimePodman {
		t.Errorf("first exec resolved on the event path to %q (%s), want podman %s", first.info.ID, first.info.Runtime, id)
	}
	r := h.execs(t, "podman exec", withArgs(cg, "cat"))[0]
	in := r.final
	if r.finalState != container.StateComplete || in.Name != "vigil-e2e-podman" || in.Labels["stage"] != "podman" ||
		in.Image.Name != "localhost/"+image || in.Image.Repository != "localhost/vigil-test/busybox" || in.Image.Tag != "1" {
		t.Errorf("podman exec: %s %+v", r.finalState, in)
	}
	t.Logf("first exec %s on the event path; stats %+v", first.state, h.res.Stats())
}
