package criapi

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/container/ocispec"
	"github.com/vigilsec/vigil/internal/hostfs"
)

// Default sockets.
const (
	CRIOSocket       = "/var/run/crio/crio.sock"
	ContainerdSocket = "/run/containerd/containerd.sock"
)

// maxMsg bounds one gRPC answer; a verbose status with its spec is tens of
// kilobytes, a node's container list a few megabytes at most.
const maxMsg = 16 << 20

// maxSandboxes bounds the cache of pod identities by sandbox id.
const maxSandboxes = 1024

// Config configures a Client.
type Config struct {
	// Socket is the runtime's CRI socket.
	Socket string
	// Runtime is what its containers are reported as:
	// container.RuntimeCRIO or container.RuntimeContainerd.
	Runtime container.Runtime
	// PollInterval is how often ListContainers is polled for lifecycle
	// changes when the runtime does not implement GetContainerEvents (2s).
	PollInterval time.Duration
	// ProcRoot is where /proc is mounted ("/proc"), to recognise the
	// host's network namespace.
	ProcRoot string
}

// Client is a CRI metadata source.
type Client struct {
	cfg  Config
	conn *grpc.ClientConn
	rs   runtimeapi.RuntimeServiceClient

	mu   sync.Mutex
	pods map[string]*container.Pod // by sandbox id; a sandbox's identity never changes
}

// New returns a client for the CRI runtime on cfg.Socket. It connects on
// first use.
func New(cfg Config) (*Client, error) {
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 2 * time.Second
	}
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = hostfs.Proc()
	}
	conn, err := grpc.NewClient("unix://"+cfg.Socket,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsg)))
	if err != nil {
		return nil, fmt.Errorf("cri at %s: %w", cfg.Socket, err)
	}
	return &Client{cfg: cfg, conn: conn, rs: runtimeapi.NewRuntimeServiceClient(conn), pods: map[string]*container.Pod{}}, nil
}

// Close releases the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Runtime implements container.Source.
func (c *Client) Runtime() container.Runtime { return c.cfg.Runtime }

// Name implements container.Source.
func (c *Client) Name() string { return "cri (" + c.cfg.Runtime.String() + ") at " + c.cfg.Socket }

// Version asks the runtime its name and version; it also tells whether
// the socket serves CRI at all (containerd without its CRI plugin does
// not).
func (c *Client) Version(ctx context.Context) (name, version string, err error) {
	v, err := c.rs.Version(ctx, &runtimeapi.VersionRequest{})
	if err != nil {
		return "", "", err
	}
	return v.GetRuntimeName(), v.GetRuntimeVersion(), nil
}

// List implements container.Source: the running containers.
func (c *Client) List(ctx context.Context) ([]string, error) {
	resp, err := c.rs.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{
		State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING},
	}})
	if err != nil {
		return nil, fmt.Errorf("cri ListContainers: %w", err)
	}
	ids := make([]string, 0, len(resp.GetContainers()))
	for _, ct := range resp.GetContainers() {
		ids = append(ids, ct.GetId())
	}
	return ids, nil
}

// Inspect implements container.Source. A sandbox (the pod's pause
// container, which has a cgroup of its own) is described by its pod.
func (c *Client) Inspect(ctx context.Context, id string) (*container.Info, error) {
	resp, err := c.rs.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id, Verbose: true})
	if status.Code(err) == codes.NotFound {
		return c.inspectSandbox(ctx, id)
	}
	if err != nil {
		return nil, fmt.Errorf("cri ContainerStatus %s: %w", id, err)
	}
	st := resp.GetStatus()
	if st == nil {
		return nil, fmt.Errorf("cri ContainerStatus %s: no status in the answer", id)
	}
	info := statusInfo(st)
	info.Runtime = c.cfg.Runtime
	var sandboxID string
	if raw, ok := resp.GetInfo()["info"]; ok {
		ri, err := ParseInfo([]byte(raw))
		if err != nil {
			return nil, fmt.Errorf("cri ContainerStatus %s: %w", id, err)
		}
		sandboxID = ri.SandboxID
		c.applyRuntimeInfo(info, ri)
	}
	if sandboxID == "" {
		sandboxID = c.sandboxOf(ctx, id)
	}
	if sandboxID != "" {
		info.Pod = c.pod(ctx, sandboxID)
		if info.Pod != nil {
			p := *info.Pod
			if st.GetMetadata() != nil {
				p.ContainerName = st.GetMetadata().GetName()
			}
			info.Pod = &p
		}
	}
	return info, nil
}

// statusInfo converts what every CRI runtime reports.
func statusInfo(st *runtimeapi.ContainerStatus) *container.Info {
	info := &container.Info{ID: st.GetId(), Labels: st.GetLabels(), StartTS: st.GetStartedAt()}
	if md := st.GetMetadata(); md != nil {
		info.Name = md.GetName()
	}
	info.Image = image(st.GetImage().GetImage(), st.GetImageRef(), st.GetImageId())
	for _, m := range st.GetMounts() {
		cm := container.Mount{Type: "bind", Source: m.GetHostPath(), Dest: m.GetContainerPath(), RW: !m.GetReadonly(),
			Mode: "rw", Propagation: propagation(m.GetPropagation())}
		if m.GetReadonly() {
			cm.Mode = "ro"
		}
		info.Mounts = append(info.Mounts, cm)
	}
	return info
}

// image reads a CRI image description. name is what the container was
// created from (a tag, or an image id when kubelet resolved it); ref is
// containerd's repo digest ("repo@sha256:...") or CRI-O's; id is the
// image id newer runtimes report separately.
func image(name, ref, id string) container.Image {
	im := container.Image{Name: name, ID: id}
	if name == "" || container.IsImageID(name) {
		if id == "" && container.IsImageID(name) {
			im.ID = name
		}
		name = ref
		im.Name = ref
	}
	im.Repository, im.Tag, im.Digest = container.ParseImageRef(name)
	if _, d, ok := strings.Cut(ref, "@"); ok && im.Digest == "" {
		im.Digest = d
	}
	if im.ID == "" && container.IsImageID(ref) {
		im.ID = ref
	}
	if container.IsImageID(im.Name) { // nothing but an id: no repository to report
		im.Repository, im.Tag = "", ""
	}
	return im
}

// propagation spells CRI's mount propagation as the OCI option it becomes.
func propagation(p runtimeapi.MountPropagation) string {
	switch p {
	case runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER:
		return "rslave"
	case runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL:
		return "rshared"
	}
	return "rprivate"
}

// applyRuntimeInfo adds what only the verbose info says: the pid, the
// privileged flag, and what the OCI spec grants.
func (c *Client) applyRuntimeInfo(info *container.Info, ri *RuntimeInfo) {
	info.PID = ri.PID
	info.Privileged = ri.Privileged
	d, err := ocispec.Describe(ri.RuntimeSpec)
	if err != nil {
		return // no spec: the flag is all there is
	}
	info.Privileged = info.Privileged || d.Privileged
	info.CapAdd, info.CapDrop = d.CapAdd, d.CapDrop
	if ri.Privileged {
		info.CapAdd, info.CapDrop = []string{"ALL"}, nil
	}
	info.User = d.User
	info.NetworkMode = ocispec.HostNetwork(d.NetworkMode, c.cfg.ProcRoot)
}

// sandboxOf finds a container's sandbox when the runtime's info did not
// name it.
func (c *Client) sandboxOf(ctx context.Context, id string) string {
	resp, err := c.rs.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{Id: id}})
	if err != nil || len(resp.GetContainers()) == 0 {
		return ""
	}
	return resp.GetContainers()[0].GetPodSandboxId()
}
