package containerdapi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/api/types/task"
	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/errdefs"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/container/ocispec"
	"github.com/vigilsec/vigil/internal/hostfs"
)

// DefaultSocket is where a standalone containerd listens; DockerSocket is
// the one dockerd starts for itself when no system containerd runs.
const (
	DefaultSocket = "/run/containerd/containerd.sock"
	DockerSocket  = "/var/run/docker/containerd/containerd.sock"
)

// Well-known namespaces.
const (
	NamespaceDocker     = "moby"
	NamespaceKubernetes = "k8s.io"
)

// LabelNerdctlName is where nerdctl keeps a container's name.
const LabelNerdctlName = "nerdctl/name"

// maxIDs bounds the map of container ids to namespaces.
const maxIDs = 8192

// Config configures a Client.
type Config struct {
	// Socket is containerd's gRPC socket (DefaultSocket).
	Socket string
	// Namespaces limits the client to these namespaces; empty means all.
	Namespaces []string
	// Skip lists namespaces to leave out, e.g. NamespaceDocker when Docker's
	// own API describes those containers.
	Skip []string
	// ProcRoot is where /proc is mounted ("/proc"), for start times.
	ProcRoot string
	// DialTimeout bounds how long a connection attempt may take (2s).
	DialTimeout time.Duration
}

// Client is a containerd metadata source.
type Client struct {
	cfg    Config
	cli    *client.Client
	images *imageCache

	mu   sync.Mutex
	nsOf map[string]string // container id -> namespace, learnt from List and events
}

// New returns a client for the containerd at cfg.Socket. It does not
// connect until first used, so a missing socket is reported by the calls.
func New(cfg Config) (*Client, error) {
	if cfg.Socket == "" {
		cfg.Socket = DefaultSocket
	}
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = hostfs.Proc()
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 2 * time.Second
	}
	cli, err := client.New(cfg.Socket, client.WithTimeout(cfg.DialTimeout))
	if err != nil {
		return nil, fmt.Errorf("containerd at %s: %w", cfg.Socket, err)
	}
	return &Client{cfg: cfg, cli: cli, images: newImageCache(), nsOf: map[string]string{}}, nil
}

// Close releases the connection.
func (c *Client) Close() error { return c.cli.Close() }

// Runtime implements container.Source.
func (c *Client) Runtime() container.Runtime { return container.RuntimeContainerd }

// Name implements container.Source.
func (c *Client) Name() string { return "containerd at " + c.cfg.Socket }

// Version returns the daemon's version, which also checks it answers.
func (c *Client) Version(ctx context.Context) (string, error) {
	v, err := c.cli.Version(ctx)
	return v.Version, err
}

// wanted reports whether the client covers a namespace.
func (c *Client) wanted(ns string) bool {
	if slices.Contains(c.cfg.Skip, ns) {
		return false
	}
	return len(c.cfg.Namespaces) == 0 || slices.Contains(c.cfg.Namespaces, ns)
}

// namespaces returns the namespaces to look in.
func (c *Client) namespaces(ctx context.Context) ([]string, error) {
	all, err := c.cli.NamespaceService().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	return slices.DeleteFunc(all, func(ns string) bool { return !c.wanted(ns) }), nil
}

// remember records which namespace holds a container.
func (c *Client) remember(id, ns string) {
	c.mu.Lock()
	if len(c.nsOf) >= maxIDs {
		clear(c.nsOf) // refilled by the next List or lookup
	}
	c.nsOf[id] = ns
	c.mu.Unlock()
}

func (c *Client) forget(id string) {
	c.mu.Lock()
	delete(c.nsOf, id)
	c.mu.Unlock()
}

// List implements container.Source: the containers whose task runs (or is
// created, or paused) in every covered namespace.
func (c *Client) List(ctx context.Context) ([]string, error) {
	nss, err := c.namespaces(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, ns := range nss {
		resp, err := c.cli.TaskService().List(namespaces.WithNamespace(ctx, ns), &tasksapi.ListTasksRequest{})
		if err != nil {
			return nil, fmt.Errorf("list tasks in namespace %s: %w", ns, err)
		}
		for _, t := range resp.GetTasks() {
			// containerd 1.6 leaves ContainerID empty and names the task
			// by its container's id.
			id := t.GetContainerID()
			if id == "" {
				id = t.GetID()
			}
			if id == "" || !alive(t.GetStatus()) {
				continue
			}
			c.remember(id, ns)
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// alive reports whether a task's process exists.
func alive(s task.Status) bool {
	return s == task.Status_RUNNING || s == task.Status_CREATED || s == task.Status_PAUSED || s == task.Status_PAUSING
}

// Inspect implements container.Source.
func (c *Client) Inspect(ctx context.Context, id string) (*container.Info, error) {
	c.mu.Lock()
	ns, known := c.nsOf[id]
	c.mu.Unlock()
	if known {
		info, err := c.inspectIn(ctx, ns, id)
		if !errors.Is(err, container.ErrNotFound) {
			return info, err
		}
		c.forget(id)
	}
	nss, err := c.namespaces(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range nss {
		if known && n == ns {
			continue
		}
		info, err := c.inspectIn(ctx, n, id)
		if errors.Is(err, container.ErrNotFound) {
			continue
		}
		if err == nil {
			c.remember(id, n)
		}
		return info, err
	}
	return nil, container.ErrNotFound
}

// inspectIn describes a container of one namespace.
func (c *Client) inspectIn(ctx context.Context, ns, id string) (*container.Info, error) {
	ctx = namespaces.WithNamespace(ctx, ns)
	ctr, err := c.cli.ContainerService().Get(ctx, id)
	if errdefs.IsNotFound(err) {
		return nil, container.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("containerd: get container %s in %s: %w", id, ns, err)
	}
	info, err := describe(ctr)
	if err != nil {
		return nil, fmt.Errorf("containerd: container %s in %s: %w", id, ns, err)
	}
	info.NetworkMode = ocispec.HostNetwork(info.NetworkMode, c.cfg.ProcRoot)
	t, err := c.cli.TaskService().Get(ctx, &tasksapi.GetRequest{ContainerID: id})
	switch {
	case errdefs.IsNotFound(err):
		// Created, not started: no process yet.
	case err != nil:
		return nil, fmt.Errorf("containerd: get task %s in %s: %w", id, ns, err)
	case alive(t.GetProcess().GetStatus()):
		info.PID = t.GetProcess().GetPid()
		if ts, err := processStart(c.cfg.ProcRoot, info.PID); err == nil {
			info.StartTS = ts
		}
	}
	if ctr.Image != "" {
		info.Image.Digest, info.Image.ID = c.images.lookup(ctx, c.cli, ns, ctr.Image)
	}
	return info, nil
}

// describe turns containerd's record of a container into an Info.
func describe(ctr containers.Container) (*container.Info, error) {
	info := &container.Info{ID: ctr.ID, Runtime: container.RuntimeContainerd, Labels: ctr.Labels}
	info.Name = nameOf(ctr)
	if ctr.Image != "" {
		info.Image.Name = ctr.Image
		info.Image.Repository, info.Image.Tag, info.Image.Digest = container.ParseImageRef(ctr.Image)
	}
	if ctr.Spec == nil {
		return info, nil // containerd requires one; be lenient with what a test or plugin wrote
	}
	s, err := ocispec.Parse(ctr.Spec.GetValue())
	if err != nil {
		return nil, err
	}
	d, err := ocispec.Describe(s)
	if err != nil {
		return nil, err
	}
	info.Privileged, info.CapAdd, info.CapDrop = d.Privileged, d.CapAdd, d.CapDrop
	info.Mounts, info.User, info.NetworkMode = d.Mounts, d.User, d.NetworkMode
	return info, nil
}

// nameOf picks a name: nerdctl's, the Kubernetes container's, or else the
// id's first 12 characters, which is what containerd's own tools show.
func nameOf(ctr containers.Container) string {
	for _, l := range []string{LabelNerdctlName, container.LabelContainerName} {
		if v := ctr.Labels[l]; v != "" {
			return v
		}
	}
	if len(ctr.ID) > 12 {
		return ctr.ID[:12]
	}
	return ctr.ID
}
