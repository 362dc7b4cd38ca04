package criapi

import (
	"context"
	"errors"
	"maps"
	"net"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/vigilsec/vigil/internal/container"
)

func newClient(t *testing.T, sock string, rt container.Runtime) *Client {
	t.Helper()
	c, err := New(Config{Socket: sock, Runtime: rt, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wantPod is the sample pod as the API server would describe it: kubelet's
// identity labels are not pod labels.
func wantPod() *container.Pod {
	return &container.Pod{Name: podName, Namespace: podNS, UID: podUID, ContainerName: "app", SandboxID: sandboxID,
		Labels:      map[string]string{"app": "web", "pod-template-hash": "7d9c8b6f5"},
		Annotations: map[string]string{"kubernetes.io/config.source": "api", "kubernetes.io/config.seen": "2026-11-27T01:00:00Z"}}
}

// TestInspectRuntimes describes the sample pod's container through both
// runtimes' info shapes, default and privileged, and checks every field.
func TestInspectRuntimes(t *testing.T) {
	for _, tc := range []struct {
		runtime    container.Runtime
		sample     string
		pid        uint32
		privileged bool
	}{
		{container.RuntimeContainerd, "containerd-info.json", 4321, false},
		{container.RuntimeContainerd, "containerd-info-privileged.json", 4400, true},
		{container.RuntimeCRIO, "crio-info.json", 4321, false},
		{container.RuntimeCRIO, "crio-info-privileged.json", 4400, true},
	} {
		t.Run(tc.sample, func(t *testing.T) {
			f := newFake(tc.runtime.String(), true)
			f.put(kubeletPod(t, f, ctrID, tc.sample))
			c := newClient(t, f.serve(t), tc.runtime)
			in, err := c.Inspect(ctxT(t), ctrID)
			if err != nil {
				t.Fatal(err)
			}
			if in.ID != ctrID || in.Runtime != tc.runtime || in.Name != "app" || in.PID != tc.pid ||
				in.StartTS != 1764200001500000000 || !maps.Equal(in.Labels, kubeletLabels()) {
				t.Errorf("identity: %+v", in)
			}
			wantImage := container.Image{Name: "docker.io/library/busybox:1.36", Repository: "docker.io/library/busybox",
				Tag: "1.36", Digest: imageDigest, ID: imageID}
			if in.Image != wantImage {
				t.Errorf("image %+v, want %+v", in.Image, wantImage)
			}
			wantMounts := []container.Mount{
				{Type: "bind", Source: "/var/lib/kubelet/pods/" + podUID + "/volumes/kubernetes.io~projected/kube-api-access-7xk2p",
					Dest: "/var/run/secrets/kubernetes.io/serviceaccount", Mode: "ro", Propagation: "rprivate"},
				{Type: "bind", Source: "/srv/data", Dest: "/data", Mode: "rw", RW: true, Propagation: "rslave"},
			}
			if !slices.Equal(in.Mounts, wantMounts) {
				t.Errorf("mounts %+v", in.Mounts)
			}
			if in.User != "101:101" || in.NetworkMode != "netns:"+netnsPath {
				t.Errorf("user %q network %q", in.User, in.NetworkMode)
			}
			if in.Privileged != tc.privileged {
				t.Errorf("privileged %v, want %v", in.Privileged, tc.privileged)
			}
			if tc.privileged && !slices.Equal(in.CapAdd, []string{"ALL"}) || !tc.privileged && (in.CapAdd != nil || in.CapDrop != nil) {
				t.Errorf("capabilities add %v drop %v", in.CapAdd, in.CapDrop)
			}
			if !reflect.DeepEqual(in.Pod, wantPod()) {
				t.Errorf("pod %+v, want %+v", in.Pod, wantPod())
			}
		})
	}
}

// TestFlagWithoutSpec: CRI-O's privileged flag counts even when the spec
// grants less (a runtime may reduce it to what the host allows, as runc
// must on this machine).
func TestFlagWithoutSpec(t *testing.T) {
	f := newFake("cri-o", true)
	ct := kubeletPod(t, f, ctrID, "")
	ct.info = `{"sandboxID":"` + sandboxID + `","pid":77,"privileged":true}`
	f.put(ct)
	in, err := newClient(t, f.serve(t), container.RuntimeCRIO).Inspect(ctxT(t), ctrID)
	if err != nil {
		t.Fatal(err)
	}
	if !in.Privileged || in.PID != 77 || in.User != "" || in.Pod == nil || in.Pod.Name != podName {
		t.Errorf("%+v", in)
	}
}

// TestNoVerboseInfo: a runtime that gives no info still yields the CRI
// status, and the pod is found through the container's sandbox id.
func TestNoVerboseInfo(t *testing.T) {
	f := newFake("containerd", true)
	f.put(kubeletPod(t, f, ctrID, ""))
	in, err := newClient(t, f.serve(t), container.RuntimeContainerd).Inspect(ctxT(t), ctrID)
	if err != nil {
		t.Fatal(err)
	}
	if in.PID != 0 || in.Privileged || in.Name != "app" || !reflect.DeepEqual(in.Pod, wantPod()) {
		t.Errorf("%+v pod %+v", in, in.Pod)
	}
}

// TestSandboxAndMissing: a sandbox id is described by its pod; an unknown
// id is ErrNotFound; malformed info is an error naming the container.
func TestSandboxAndMissing(t *testing.T) {
	f := newFake("containerd", true)
	ct := kubeletPod(t, f, ctrID, "")
	ct.info = `{"pid":"not a number"}`
	f.put(ct)
	c := newClient(t, f.serve(t), container.RuntimeContainerd)
	ctx := ctxT(t)
	in, err := c.Inspect(ctx, sandboxID)
	if err != nil {
		t.Fatal(err)
	}
	want := wantPod()
	want.ContainerName = ""
	if in.ID != sandboxID || in.Name != podName || in.StartTS != 1764200000000000000 || !reflect.DeepEqual(in.Pod, want) {
		t.Errorf("sandbox: %+v pod %+v", in, in.Pod)
	}
	if _, err := c.Inspect(ctx, strings.Repeat("0", 64)); !errors.Is(err, container.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := c.Inspect(ctx, ctrID); err == nil || !strings.Contains(err.Error(), ctrID) {
		t.Errorf("bad info: %v", err)
	}
}

// TestListAndEvents lists running containers only and follows
// GetContainerEvents.
func TestListAndEvents(t *testing.T) {
	f := newFake("containerd", true)
	f.put(kubeletPod(t, f, ctrID, "containerd-info.json"))
	stopped := kubeletPod(t, f, privCtrID, "")
	stopped.status.State = runtimeapi.ContainerState_CONTAINER_EXITED
	f.put(stopped)
	c := newClient(t, f.serve(t), container.RuntimeContainerd)
	ctx := ctxT(t)
	ids, err := c.List(ctx)
	if err != nil || !slices.Equal(ids, []string{ctrID}) {
		t.Errorf("List = %v, %v", ids, err)
	}
	events := watch(t, ctx, c)
	for _, typ := range []runtimeapi.ContainerEventType{runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT,
		runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT,
		runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT} {
		f.emit(privCtrID, typ)
	}
	want := []container.Action{container.ActionCreate, container.ActionStart, container.ActionDie, container.ActionDestroy}
	if got := collect(t, ctx, events, privCtrID, len(want)); !slices.Equal(got, want) {
		t.Errorf("actions %v, want %v", got, want)
	}
}

// TestPollingFallback: a runtime without GetContainerEvents (containerd
// 1.6, older CRI-O) is polled, and each state change becomes its event.
func TestPollingFallback(t *testing.T) {
	f := newFake("containerd", false)
	c := newClient(t, f.serve(t), container.RuntimeContainerd)
	ctx := ctxT(t)
	events := watch(t, ctx, c)
	ct := kubeletPod(t, f, ctrID, "")
	ct.status.State = runtimeapi.ContainerState_CONTAINER_CREATED
	f.put(ct)
	steps := []struct {
		change func()
		want   container.Action
	}{
		{func() {}, container.ActionCreate},
		{func() { f.setState(ctrID, runtimeapi.ContainerState_CONTAINER_RUNNING) }, container.ActionStart},
		{func() { f.setState(ctrID, runtimeapi.ContainerState_CONTAINER_EXITED) }, container.ActionDie},
		{func() { f.remove(ctrID) }, container.ActionDestroy},
	}
	for _, s := range steps {
		s.change()
		if got := collect(t, ctx, events, ctrID, 1); got[0] != s.want {
			t.Fatalf("got %v, want %v", got[0], s.want)
		}
	}
}

// TestUnavailableRuntime: a missing socket and one that never answers
// fail within the deadline, and not as ErrNotFound.
func TestUnavailableRuntime(t *testing.T) {
	dir := t.TempDir()
	mute := filepath.Join(dir, "mute.sock")
	l, err := net.Listen("unix", mute)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	for _, sock := range []string{filepath.Join(dir, "missing.sock"), mute} {
		c := newClient(t, sock, container.RuntimeCRIO)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		if _, err := c.List(ctx); err == nil {
			t.Errorf("%s: List succeeded", sock)
		}
		if _, err := c.Inspect(ctx, ctrID); err == nil || errors.Is(err, container.ErrNotFound) {
			t.Errorf("%s: Inspect = %v", sock, err)
		}
		if err := c.Watch(ctx, func(container.RuntimeEvent) {}); err == nil {
			t.Errorf("%s: Watch ended without error", sock)
		}
		if _, _, err := c.Version(ctx); err == nil {
			t.Errorf("%s: Version answered", sock)
		}
		cancel()
	}
}

func watch(t *testing.T, ctx context.Context, c *Client) <-chan container.RuntimeEvent {
	t.Helper()
	events := make(chan container.RuntimeEvent, 64)
	errc := make(chan error, 1)
	go func() { errc <- c.Watch(ctx, func(ev container.RuntimeEvent) { events <- ev }) }()
	select {
	case ev := <-events:
		if ev.Action != container.ActionConnected {
			t.Fatalf("first event %+v", ev)
		}
	case err := <-errc:
		t.Fatalf("Watch: %v", err)
	}
	return events
}

func collect(t *testing.T, ctx context.Context, events <-chan container.RuntimeEvent, id string, n int) []container.Action {
	t.Helper()
	var got []container.Action
	for len(got) < n {
		select {
		case ev := <-events:
			if ev.ID == id {
				got = append(got, ev.Action)
			}
		case <-ctx.Done():
			t.Fatalf("events for %.12s: %v, want %d", id, got, n)
		}
	}
	return got
}
