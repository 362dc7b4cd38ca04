package criapi

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/vigilsec/vigil/internal/container"
)

// pod returns the identity of a sandbox's pod, cached: CRI cannot change
// a sandbox's metadata, labels or annotations after it is created. A
// failure leaves the container with what kubelet's labels say.
func (c *Client) pod(ctx context.Context, sandboxID string) *container.Pod {
	c.mu.Lock()
	p, ok := c.pods[sandboxID]
	c.mu.Unlock()
	if ok {
		return p
	}
	resp, err := c.rs.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: sandboxID})
	if err != nil || resp.GetStatus() == nil {
		return nil
	}
	p = podOf(resp.GetStatus())
	c.mu.Lock()
	if len(c.pods) >= maxSandboxes {
		clear(c.pods)
	}
	c.pods[sandboxID] = p
	c.mu.Unlock()
	return p
}

// podOf reads a sandbox's pod. Kubelet gives the sandbox the pod's own
// labels plus its identity labels (io.kubernetes.pod.*), which are left
// out of the pod's labels as the API server would show them.
func podOf(st *runtimeapi.PodSandboxStatus) *container.Pod {
	md := st.GetMetadata()
	p := &container.Pod{Name: md.GetName(), Namespace: md.GetNamespace(), UID: md.GetUid(), SandboxID: st.GetId(),
		Annotations: st.GetAnnotations()}
	for k, v := range st.GetLabels() {
		if strings.HasPrefix(k, "io.kubernetes.pod.") {
			continue
		}
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		p.Labels[k] = v
	}
	return p
}

// inspectSandbox describes a pod's sandbox as a container: Falco reports
// the pause container's processes under the pod too.
func (c *Client) inspectSandbox(ctx context.Context, id string) (*container.Info, error) {
	resp, err := c.rs.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: id, Verbose: true})
	if status.Code(err) == codes.NotFound {
		return nil, container.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("cri PodSandboxStatus %s: %w", id, err)
	}
	st := resp.GetStatus()
	if st == nil {
		return nil, container.ErrNotFound
	}
	p := podOf(st)
	info := &container.Info{ID: st.GetId(), Runtime: c.cfg.Runtime, Labels: st.GetLabels(), StartTS: st.GetCreatedAt(), Pod: p}
	info.Name = p.Name
	if raw, ok := resp.GetInfo()["info"]; ok {
		if ri, err := ParseInfo([]byte(raw)); err == nil {
			c.applyRuntimeInfo(info, ri)
		}
	}
	if ns := st.GetLinux().GetNamespaces().GetOptions(); ns != nil && ns.GetNetwork() == runtimeapi.NamespaceMode_NODE {
		info.NetworkMode = "host"
	}
	return info, nil
}
