package containerdapi

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/testutil"
)

// requireContainerd returns the socket of a containerd that answers: the
// system one, or the one dockerd started for itself (as on this machine,
// where docker.io's dockerd runs its own). In CI a missing one fails.
func requireContainerd(t *testing.T) string {
	t.Helper()
	testutil.RequireDocker(t)
	for _, sock := range []string{DefaultSocket, DockerSocket} {
		if _, err := os.Stat(sock); err != nil {
			continue
		}
		c, err := New(Config{Socket: sock})
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = c.Version(ctx)
		cancel()
		_ = c.Close() // only probed
		if err == nil {
			return sock
		}
	}
	testutil.Require(t, false, "a containerd answering on "+DefaultSocket+" or "+DockerSocket+" (run scripts/docker-up.sh)")
	return ""
}

// dockerCLI runs Debian's docker command line and returns its trimmed
// output.
func dockerCLI(t *testing.T, args ...string) string {
	t.Helper()
	bin := "/usr/bin/docker"
	if _, err := os.Stat(bin); err != nil {
		bin = "docker"
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func removeContainer(t *testing.T, name string) {
	_ = exec.Command("/usr/bin/docker", "rm", "-f", name).Run() // a leftover of an earlier run, usually none
	testutil.RunOnCleanup(t, "/usr/bin/docker", "rm", "-f", name)
}

// watch starts c.Watch and returns its events once the stream is open.
func watch(t *testing.T, ctx context.Context, c *Client) <-chan container.RuntimeEvent {
	t.Helper()
	events := make(chan container.RuntimeEvent, 256)
	errc := make(chan error, 1)
	go func() { errc <- c.Watch(ctx, func(ev container.RuntimeEvent) { events <- ev }) }()
	select {
	case ev := <-events:
		if ev.Action != container.ActionConnected {
			t.Fatalf("first event %+v, want connected", ev)
		}
	case err := <-errc:
		t.Fatalf("Watch: %v", err)
	case <-ctx.Done():
		t.Fatal("Watch never connected")
	}
	return events
}

// waitFor collects the actions reported for id until want arrives.
func waitFor(t *testing.T, ctx context.Context, events <-chan container.RuntimeEvent, id string, want container.Action) []container.Action {
	t.Helper()
	var got []container.Action
	for {
		select {
		case ev := <-events:
			if ev.ID != id {
				continue
			}
			got = append(got, ev.Action)
			if ev.Action == want {
				return got
			}
		case <-ctx.Done():
			t.Fatalf("events for %.12s: %v, never %v", id, got, want)
		}
	}
}

// muteSocket listens on a unix socket that accepts and never answers.
func muteSocket(t *testing.T, path string) {
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() })
		}
	}()
}
