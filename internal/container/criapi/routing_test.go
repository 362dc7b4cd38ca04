package criapi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/testutil"
)

// unifiedRoot returns the cgroup v2 hierarchy (/sys/fs/cgroup or, on
// hybrid hosts like this one, /sys/fs/cgroup/unified).
func unifiedRoot(t *testing.T) string {
	for _, dir := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var st unix.Statfs_t
		if unix.Statfs(dir, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return dir
		}
	}
	testutil.Require(t, false, "a cgroup v2 hierarchy")
	return ""
}

// mkCgroup creates a cgroup (and its parents) below root and returns its
// id, the directory's inode number.
func mkCgroup(t *testing.T, root, rel string) uint64 {
	t.Helper()
	dir := filepath.Join(root, rel)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.Remove(dir); err != nil {
			t.Error(err)
		}
		// Then the parents, deepest first. Those shared with other
		// cgroups of the test are busy until the cleanup of the last
		// one, which cleanups run last-in first-out reach last.
		for d := filepath.Dir(dir); d != root; d = filepath.Dir(d) {
			if err := os.Remove(d); err != nil && !errors.Is(err, unix.EBUSY) && !errors.Is(err, unix.ENOTEMPTY) {
				t.Error(err)
			}
		}
	})
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Ino
}

// TestRuntimeRouting gives the resolver a containerd CRI source and a
// CRI-O one, and real cgroups named as each runtime names them: a
// cri-containerd path is asked of containerd only, a crio path of CRI-O
// only, and a cgroupfs kubepods path (no runtime named) of both, becoming
// the type of the one that knows it. The pod comes from the sandbox.
func TestRuntimeRouting(t *testing.T) {
	testutil.Require(t, os.Geteuid() == 0, "root (the test creates cgroups)")
	root := unifiedRoot(t)
	ctrdID, crioID, bareID := ctrID, privCtrID, strings.Repeat("ab", 32)
	ctrd, crio := newFake("containerd", true), newFake("cri-o", true)
	// Created, not running: Start's listing does not see them, so each is
	// first met through its cgroup, as a container started after the agent.
	for _, c := range []struct {
		f  *fakeRuntime
		id string
	}{{ctrd, ctrdID}, {crio, crioID}, {crio, bareID}} {
		ct := kubeletPod(t, c.f, c.id, "crio-info.json")
		ct.status.State = runtimeapi.ContainerState_CONTAINER_CREATED
		c.f.put(ct)
	}
	srcs := []container.Source{newClient(t, ctrd.serve(t), container.RuntimeContainerd), newClient(t, crio.serve(t), container.RuntimeCRIO)}

	base := fmt.Sprintf("vigil-test-routing-%d", os.Getpid())
	slice := "kubepods-besteffort-pod" + strings.ReplaceAll(podUID, "-", "_") + ".slice"
	ids := map[string]uint64{
		ctrdID: mkCgroup(t, root, base+"/kubepods.slice/"+slice+"/cri-containerd-"+ctrdID+".scope"),
		crioID: mkCgroup(t, root, base+"/kubepods.slice/"+slice+"/crio-"+crioID+".scope"),
		bareID: mkCgroup(t, root, base+"/kubepods/besteffort/pod"+podUID+"/"+bareID),
	}
	r := container.New(container.Config{Sources: srcs})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for id, want := range map[string]container.Runtime{ctrdID: container.RuntimeContainerd, crioID: container.RuntimeCRIO, bareID: container.RuntimeCRIO} {
		info, st := r.WaitFor(ctx, ids[id], 10*time.Second)
		if st != container.StateComplete || info.ID != id || info.Runtime != want || info.Name != "app" {
			t.Errorf("%.12s: %v %v %q, want complete %v", id, st, info.Runtime, info.Name, want)
			continue
		}
		if p := info.Pod; p == nil || p.Name != podName || p.Namespace != podNS || p.UID != podUID ||
			p.ContainerName != "app" || p.Labels["app"] != "web" {
			t.Errorf("%.12s: pod %+v", id, info.Pod)
		}
	}
	ctrd.mu.Lock()
	crio.mu.Lock()
	defer ctrd.mu.Unlock()
	defer crio.mu.Unlock()
	// containerd was asked about its own container and the bare one (it
	// said not found); CRI-O about its own two.
	if ctrd.statusAsks != 2 || crio.statusAsks != 2 {
		t.Errorf("ContainerStatus asked %d times of containerd, %d of CRI-O; want 2 and 2", ctrd.statusAsks, crio.statusAsks)
	}
}
