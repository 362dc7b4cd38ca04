package container_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/container/dockerapi"
	"github.com/vigilsec/vigil/internal/testutil"
)

// syncBuffer is a log destination safe for the resolver's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// muteSocket accepts connections and never answers, like a hung engine.
func muteSocket(t *testing.T) string {
	sock := filepath.Join(t.TempDir(), "mute.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() { // the verdict is made: closing changes nothing
		_ = l.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
	})
	return sock
}

// TestRuntimeUnavailable points the resolver at a missing socket and at a
// hung one while a real container runs: lookups still give the container's
// id at once, nothing blocks longer than the request timeout, and the
// failure is counted and logged.
func TestRuntimeUnavailable(t *testing.T) {
	testutil.RequireDocker(t)
	id, pid := runContainer(t, "docker", "vigil-e2e-orphan", image, "sleep", "60")
	for name, sock := range map[string]string{
		"missing":      filepath.Join(t.TempDir(), "no-such.sock"),
		"unresponsive": muteSocket(t),
	} {
		t.Run(name, func(t *testing.T) {
			var logs syncBuffer
			const timeout = 300 * time.Millisecond
			res := container.New(container.Config{
				Sources:        []container.Source{dockerapi.New(sock, container.RuntimeDocker)},
				RequestTimeout: timeout,
				StartTimeout:   time.Second,
				Logger:         slog.New(slog.NewTextHandler(&logs, nil)),
			})
			start := time.Now()
			if err := res.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer res.Close()
			if d := time.Since(start); d > 2*timeout {
				t.Errorf("Start took %v with a %s runtime", d, name)
			}

			cg := cgroupOf(t, pid)
			start = time.Now()
			info, st := res.Lookup(cg)
			first := time.Since(start)
			if info.ID != id || info.Runtime != container.RuntimeDocker || (st != container.StatePending && st != container.StateIDOnly) {
				t.Fatalf("Lookup = %q %s %s, want the id alone", info.ID, info.Runtime, st)
			}
			start = time.Now()
			const n = 10000
			for range n {
				res.Lookup(cg)
			}
			per := time.Since(start) / n
			if first > 50*time.Millisecond || per > 50*time.Microsecond {
				t.Errorf("lookups block: first %v, then %v each", first, per)
			}

			info, st = res.WaitFor(context.Background(), cg, 3*time.Second)
			if st != container.StateIDOnly || info.ID != id || info.Name != "" {
				t.Errorf("WaitFor = %q %q %s, want id-only", info.ID, info.Name, st)
			}
			s := res.Stats()
			if s.FetchErrors == 0 || s.NotYetKnown == 0 {
				t.Errorf("failures not counted: %+v", s)
			}
			if !strings.Contains(logs.String(), "container metadata unavailable") {
				t.Errorf("failure not logged; log:\n%s", logs.String())
			}
			t.Logf("first lookup %v, then %v each; stats %+v", first, per, s)
		})
	}
}
