package criapi

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// fakeRuntime is a CRI RuntimeService over the real generated types,
// answering from what a test put in it, as CRI-O or containerd would.
type fakeRuntime struct {
	runtimeapi.UnimplementedRuntimeServiceServer
	name   string
	events bool // implement GetContainerEvents

	mu         sync.Mutex
	containers map[string]*fakeContainer
	sandboxes  map[string]*runtimeapi.PodSandboxStatus
	streams    []chan *runtimeapi.ContainerEventResponse
	statusAsks int
}

type fakeContainer struct {
	status    *runtimeapi.ContainerStatus
	info      string // the verbose "info" entry, "" for none
	sandboxID string
}

func newFake(name string, events bool) *fakeRuntime {
	return &fakeRuntime{name: name, events: events, containers: map[string]*fakeContainer{},
		sandboxes: map[string]*runtimeapi.PodSandboxStatus{}}
}

// serve listens on a unix socket in a fresh directory and returns its path.
func (f *fakeRuntime) serve(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "cri.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	runtimeapi.RegisterRuntimeServiceServer(srv, f)
	go func() {
		// Serve returns nil once Stop is called: an error is a failure
		// while the test still runs.
		if err := srv.Serve(l); err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(srv.Stop)
	return sock
}

func (f *fakeRuntime) put(c *fakeContainer) {
	f.mu.Lock()
	f.containers[c.status.Id] = c
	f.mu.Unlock()
}

func (f *fakeRuntime) setState(id string, st runtimeapi.ContainerState) {
	f.mu.Lock()
	f.containers[id].status.State = st
	f.mu.Unlock()
}

func (f *fakeRuntime) remove(id string) {
	f.mu.Lock()
	delete(f.containers, id)
	f.mu.Unlock()
}

// emit sends an event to every open GetContainerEvents stream.
func (f *fakeRuntime) emit(id string, typ runtimeapi.ContainerEventType) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.streams {
		s <- &runtimeapi.ContainerEventResponse{ContainerId: id, ContainerEventType: typ}
	}
}

func (f *fakeRuntime) Version(context.Context, *runtimeapi.VersionRequest) (*runtimeapi.VersionResponse, error) {
	return &runtimeapi.VersionResponse{Version: "0.1.0", RuntimeName: f.name, RuntimeVersion: "1.0.0-test", RuntimeApiVersion: "v1"}, nil
}

func (f *fakeRuntime) ListContainers(_ context.Context, req *runtimeapi.ListContainersRequest) (*runtimeapi.ListContainersResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*runtimeapi.Container
	for id, c := range f.containers {
		flt := req.GetFilter()
		if flt.GetId() != "" && flt.GetId() != id {
			continue
		}
		if flt.GetState() != nil && flt.GetState().GetState() != c.status.State {
			continue
		}
		out = append(out, &runtimeapi.Container{Id: id, PodSandboxId: c.sandboxID, State: c.status.State,
			Metadata: c.status.Metadata, Labels: c.status.Labels})
	}
	return &runtimeapi.ListContainersResponse{Containers: out}, nil
}

func (f *fakeRuntime) ContainerStatus(_ context.Context, req *runtimeapi.ContainerStatusRequest) (*runtimeapi.ContainerStatusResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statusAsks++
	c, ok := f.containers[req.GetContainerId()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "could not find container %q", req.GetContainerId())
	}
	resp := &runtimeapi.ContainerStatusResponse{Status: c.status}
	if req.GetVerbose() && c.info != "" {
		resp.Info = map[string]string{"info": c.info}
	}
	return resp, nil
}

func (f *fakeRuntime) PodSandboxStatus(_ context.Context, req *runtimeapi.PodSandboxStatusRequest) (*runtimeapi.PodSandboxStatusResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sandboxes[req.GetPodSandboxId()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "could not find pod %q", req.GetPodSandboxId())
	}
	return &runtimeapi.PodSandboxStatusResponse{Status: s}, nil
}

func (f *fakeRuntime) GetContainerEvents(_ *runtimeapi.GetEventsRequest, srv grpc.ServerStreamingServer[runtimeapi.ContainerEventResponse]) error {
	if !f.events {
		return status.Error(codes.Unimplemented, "method GetContainerEvents not implemented")
	}
	ch := make(chan *runtimeapi.ContainerEventResponse, 16)
	f.mu.Lock()
	f.streams = append(f.streams, ch)
	f.mu.Unlock()
	for {
		select {
		case ev := <-ch:
			if err := srv.Send(ev); err != nil {
				return err
			}
		case <-srv.Context().Done():
			return nil
		}
	}
}

// kubeletPod fills the fake with the sample pod's sandbox and returns a
// running container of it, as kubelet creates them, with info from the
// named sample.
func kubeletPod(t *testing.T, f *fakeRuntime, id, sample string) *fakeContainer {
	t.Helper()
	f.sandboxes[sandboxID] = &runtimeapi.PodSandboxStatus{
		Id:       sandboxID,
		Metadata: &runtimeapi.PodSandboxMetadata{Name: podName, Uid: podUID, Namespace: podNS},
		State:    runtimeapi.PodSandboxState_SANDBOX_READY, CreatedAt: 1764200000000000000,
		Labels: map[string]string{"app": "web", "pod-template-hash": "7d9c8b6f5",
			"io.kubernetes.pod.name": podName, "io.kubernetes.pod.namespace": podNS, "io.kubernetes.pod.uid": podUID},
		Annotations: map[string]string{"kubernetes.io/config.source": "api", "kubernetes.io/config.seen": "2026-11-27T01:00:00Z"},
		Linux: &runtimeapi.LinuxPodSandboxStatus{Namespaces: &runtimeapi.Namespace{Options: &runtimeapi.NamespaceOption{
			Network: runtimeapi.NamespaceMode_POD}}},
	}
	info := ""
	if sample != "" {
		b, err := os.ReadFile(filepath.Join("testdata", sample))
		if err != nil {
			t.Fatal(err)
		}
		info = string(b)
	}
	return &fakeContainer{sandboxID: sandboxID, info: info, status: &runtimeapi.ContainerStatus{
		Id: id, Metadata: &runtimeapi.ContainerMetadata{Name: "app"}, State: runtimeapi.ContainerState_CONTAINER_RUNNING,
		CreatedAt: 1764200001000000000, StartedAt: 1764200001500000000,
		Image:    &runtimeapi.ImageSpec{Image: "docker.io/library/busybox:1.36"},
		ImageRef: "docker.io/library/busybox@" + imageDigest, ImageId: imageID,
		Labels: kubeletLabels(),
		Mounts: []*runtimeapi.Mount{
			{ContainerPath: "/var/run/secrets/kubernetes.io/serviceaccount", HostPath: "/var/lib/kubelet/pods/" + podUID + "/volumes/kubernetes.io~projected/kube-api-access-7xk2p", Readonly: true},
			{ContainerPath: "/data", HostPath: "/srv/data", Propagation: runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER},
		},
	}}
}
