package dockerapi

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/testutil"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func idOf(t *testing.T, inspect []byte) string {
	var v struct {
		ID string `json:"Id"`
	}
	if err := json.Unmarshal(inspect, &v); err != nil {
		t.Fatal(err)
	}
	return v.ID
}

// TestInspectFixtures parses the Engine API's JSON as Docker 20.10 wrote it
// for a privileged container (created here with --privileged; it cannot
// start on this machine) and for a default one.
func TestInspectFixtures(t *testing.T) {
	priv, def := readFixture(t, "inspect-privileged.json"), readFixture(t, "inspect-default.json")
	pid, did := idOf(t, priv), idOf(t, def)
	c := New(fixtureEngine(t, map[string][]byte{pid: priv, did: def}, readFixture(t, "image.json")), container.RuntimeDocker)
	ctx := context.Background()

	in, err := c.Inspect(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	if !in.Privileged || in.Name != "vigil-fixture-priv" || in.Labels["app"] != "demo" {
		t.Errorf("privileged container: %+v", in)
	}
	if len(in.Mounts) != 1 || in.Mounts[0].Source != "/tmp" || in.Mounts[0].Dest != "/hosttmp" || in.Mounts[0].RW {
		t.Errorf("mounts: %+v", in.Mounts)
	}
	if in.PID != 0 || in.StartTS == 0 {
		t.Errorf("a created container has no pid and its creation time: pid %d start %d", in.PID, in.StartTS)
	}
	img := in.Image
	if img.Name != "vigil-test/busybox:1" || img.Repository != "vigil-test/busybox" || img.Tag != "1" ||
		img.ID == "" || img.Digest != "" {
		t.Errorf("image: %+v", img)
	}

	in, err = c.Inspect(ctx, did)
	if err != nil {
		t.Fatal(err)
	}
	if in.Privileged || in.CapAdd != nil || in.PID == 0 || in.NetworkMode != "default" {
		t.Errorf("default container: %+v", in)
	}

	if _, err := c.Inspect(ctx, "nosuch"); !errors.Is(err, container.ErrNotFound) {
		t.Errorf("unknown container: %v, want ErrNotFound", err)
	}
}

// TestPrivilegedLive creates a privileged container on the real engine,
// serves the engine's own JSON for it through a test server, and checks
// both paths agree that it is privileged.
func TestPrivilegedLive(t *testing.T) {
	testutil.RequireDocker(t)
	name := "vigil-test-privileged"
	removeContainer(t, name)
	id := dockerCLI(t, "create", "--privileged", "--name", name, "vigil-test/busybox:1", "sleep", "5")
	real := New(testutil.DockerSocket, container.RuntimeDocker)
	ctx := context.Background()
	raw, err := real.InspectRaw(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	served := New(fixtureEngine(t, map[string][]byte{id: raw}, nil), container.RuntimeDocker)
	for what, c := range map[string]*Client{"engine": real, "served copy": served} {
		in, err := c.Inspect(ctx, id)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !in.Privileged || in.ID != id || in.Name != name {
			t.Errorf("%s: %+v", what, in)
		}
	}
}

// TestEngineListAndEvents runs a container and checks that the client
// lists it, inspects it and sees its lifecycle on the event stream.
func TestEngineListAndEvents(t *testing.T) {
	testutil.RequireDocker(t)
	if srcs := Detect(); len(srcs) == 0 || srcs[0].Runtime() != container.RuntimeDocker {
		t.Errorf("Detect() = %v with Docker listening", srcs)
	}
	c := New(testutil.DockerSocket, container.RuntimeDocker)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	events := make(chan container.RuntimeEvent, 64)
	go func() {
		// Ends with ctx, which is its expected error; the events are
		// what the test checks.
		_ = c.Watch(ctx, func(ev container.RuntimeEvent) { events <- ev })
	}()
	if ev := <-events; ev.Action != container.ActionConnected {
		t.Fatalf("first event %+v, want connected", ev)
	}

	name := "vigil-test-events"
	removeContainer(t, name)
	id := dockerCLI(t, "run", "-d", "--name", name, "--label", "team=blue", "--cap-add", "NET_ADMIN",
		"--cap-drop", "MKNOD", "-v", "/tmp:/hosttmp:ro", "vigil-test/busybox:1", "sleep", "30")
	ids, err := c.List(ctx)
	if err != nil || !slices.Contains(ids, id) {
		t.Fatalf("List = %v, %v; want it to contain %s", ids, err, id)
	}
	in, err := c.Inspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if in.Name != name || in.Labels["team"] != "blue" || in.PID == 0 || in.StartTS == 0 ||
		!slices.Equal(in.CapAdd, []string{"NET_ADMIN"}) || !slices.Equal(in.CapDrop, []string{"MKNOD"}) ||
		in.Image.Repository != "vigil-test/busybox" || len(in.Mounts) != 1 {
		t.Errorf("inspect: %+v", in)
	}
	dockerCLI(t, "rm", "-f", name)

	want := []container.Action{container.ActionCreate, container.ActionStart, container.ActionDie, container.ActionDestroy}
	var got []container.Action
	for len(got) < len(want) {
		select {
		case ev := <-events:
			if ev.ID == id {
				got = append(got, ev.Action)
			}
		case <-ctx.Done():
			t.Fatalf("events for the container: %v, want %v", got, want)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

// TestUnresponsiveEngine checks that a socket that accepts and never
// answers costs no more than the caller's deadline.
func TestUnresponsiveEngine(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "mute.sock")
	l, err := net.Listen("unix", sock)
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
			defer conn.Close() // held open, never answered
		}
	}()
	c := New(sock, container.RuntimeDocker)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Inspect(ctx, "x"); err == nil {
		t.Fatal("a mute engine answered")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Inspect took %v against a 200ms deadline", d)
	}
	if _, err := New(filepath.Join(t.TempDir(), "none.sock"), container.RuntimeDocker).List(context.Background()); err == nil {
		t.Error("a missing socket listed containers")
	}
}
