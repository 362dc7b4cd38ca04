package containerdapi

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/container"
)

// TestDockerContainerInMoby starts a Docker container while the client
// watches Docker's containerd namespace, and checks the start event and
// every field containerd can give for it.
func TestDockerContainerInMoby(t *testing.T) {
	sock := requireContainerd(t)
	c, err := New(Config{Socket: sock, Namespaces: []string{NamespaceDocker}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	events := watch(t, ctx, c)

	name := "vigil-test-containerd"
	removeContainer(t, name)
	id := dockerCLI(t, "create", "--name", name, "--label", "team=blue", "--cap-add", "NET_ADMIN",
		"--user", "1000:1000", "-v", "/tmp:/hosttmp:ro", "vigil-test/busybox:1", "sleep", "60")
	dockerCLI(t, "start", name)
	// Docker makes the containerd container at start: create, then the
	// task's create (pid known) and start.
	got := waitFor(t, ctx, events, id, container.ActionStart)
	if !slices.Equal(got, []container.Action{container.ActionCreate, container.ActionCreate, container.ActionStart}) {
		t.Errorf("actions before start %v, want create (container), create (task), start", got)
	}

	ids, err := c.List(ctx)
	if err != nil || !slices.Contains(ids, id) {
		t.Fatalf("List = %v, %v; want it to hold %s", ids, err, id)
	}
	in, err := c.Inspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.ParseUint(dockerCLI(t, "inspect", "-f", "{{.State.Pid}}", name), 10, 32)
	started, err := time.Parse(time.RFC3339Nano, dockerCLI(t, "inspect", "-f", "{{.State.StartedAt}}", name))
	if err != nil {
		t.Fatal(err)
	}
	if in.ID != id || in.Runtime != container.RuntimeContainerd || in.Name != id[:12] || in.PID != uint32(pid) || pid == 0 {
		t.Errorf("identity: id %s runtime %v name %q pid %d (docker says %d)", in.ID, in.Runtime, in.Name, in.PID, pid)
	}
	// The start time comes from /proc in clock ticks; Docker's is taken a
	// few milliseconds later. A wrong unit or boot time would be hours off.
	if d := started.Sub(time.Unix(0, in.StartTS)); d < -time.Second || d > 5*time.Second {
		t.Errorf("start %v, docker says %v", time.Unix(0, in.StartTS), started)
	}
	if in.Privileged || !slices.Equal(in.CapAdd, []string{"NET_ADMIN"}) || in.CapDrop != nil ||
		in.User != "1000:1000" || in.NetworkMode != "private" {
		t.Errorf("security: privileged %v add %v drop %v user %q network %q", in.Privileged, in.CapAdd, in.CapDrop, in.User, in.NetworkMode)
	}
	want := container.Mount{Type: "bind", Source: "/tmp", Dest: "/hosttmp", Mode: "ro", Propagation: "rprivate"}
	if len(in.Mounts) == 0 || in.Mounts[0] != want {
		t.Errorf("mounts %+v, want first %+v", in.Mounts, want)
	}
	// Docker keeps images and labels to itself: containerd only has the
	// bundle path.
	if in.Image != (container.Image{}) || in.Labels["com.docker/engine.bundle.path"] == "" || in.Labels["team"] != "" {
		t.Errorf("image %+v labels %v", in.Image, in.Labels)
	}

	dockerCLI(t, "rm", "-f", name)
	got = waitFor(t, ctx, events, id, container.ActionDestroy)
	if !slices.Contains(got, container.ActionDie) {
		t.Errorf("actions after rm %v, want a die before destroy", got)
	}
	if _, err := c.Inspect(ctx, id); !errors.Is(err, container.ErrNotFound) {
		t.Errorf("Inspect of a removed container: %v, want ErrNotFound", err)
	}
}

// TestHostNetworkAndSkip runs a --network host container: containerd's
// spec joins Docker's bind of the host namespace, which must read as
// "host". A client that skips "moby" must not see it.
func TestHostNetworkAndSkip(t *testing.T) {
	sock := requireContainerd(t)
	name := "vigil-test-containerd-host"
	removeContainer(t, name)
	id := dockerCLI(t, "run", "-d", "--name", name, "--network", "host", "vigil-test/busybox:1", "sleep", "60")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	all, err := New(Config{Socket: sock})
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	in, err := all.Inspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if in.NetworkMode != "host" {
		t.Errorf("network mode %q, want host", in.NetworkMode)
	}

	skip, err := New(Config{Socket: sock, Skip: []string{NamespaceDocker}})
	if err != nil {
		t.Fatal(err)
	}
	defer skip.Close()
	ids, err := skip.List(ctx)
	if err != nil || slices.Contains(ids, id) {
		t.Errorf("List skipping moby = %v, %v", ids, err)
	}
	if _, err := skip.Inspect(ctx, id); !errors.Is(err, container.ErrNotFound) {
		t.Errorf("Inspect skipping moby: %v, want ErrNotFound", err)
	}
}

// TestUnavailableDaemon checks that a missing socket and one that never
// answers fail within the caller's deadline and are not ErrNotFound (which
// would be cached as "no such container").
func TestUnavailableDaemon(t *testing.T) {
	dir := t.TempDir()
	mute := filepath.Join(dir, "mute.sock")
	muteSocket(t, mute)
	for _, sock := range []string{filepath.Join(dir, "missing.sock"), mute} {
		c, err := New(Config{Socket: sock, DialTimeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		if _, err := c.List(ctx); err == nil {
			t.Errorf("%s: List succeeded", sock)
		}
		if _, err := c.Inspect(ctx, "x"); err == nil || errors.Is(err, container.ErrNotFound) {
			t.Errorf("%s: Inspect = %v, want a failure other than not-found", sock, err)
		}
		if err := c.Watch(ctx, func(container.RuntimeEvent) {}); err == nil {
			t.Errorf("%s: Watch returned no error", sock)
		}
		cancel()
		_ = c.Close() // the client of a socket that never answered
	}
}
