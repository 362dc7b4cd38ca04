package sources

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/container/containerdapi"
	"github.com/vigilsec/vigil/internal/container/criapi"
	"github.com/vigilsec/vigil/internal/container/dockerapi"
	"github.com/vigilsec/vigil/internal/testutil"
)

// criVersion is a CRI runtime that answers Version only, which is all
// detection asks.
type criVersion struct {
	runtimeapi.UnimplementedRuntimeServiceServer
}

func (criVersion) Version(context.Context, *runtimeapi.VersionRequest) (*runtimeapi.VersionResponse, error) {
	return &runtimeapi.VersionResponse{RuntimeName: "containerd", RuntimeVersion: "v2.1.0", RuntimeApiVersion: "v1"}, nil
}

func serveCRI(t *testing.T, dir string) string {
	sock := filepath.Join(dir, "cri.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	runtimeapi.RegisterRuntimeServiceServer(srv, criVersion{})
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

// plainSocket is a unix socket that serves nothing: containerd without its
// CRI plugin, as far as the probe can tell.
func plainSocket(t *testing.T, dir string) string {
	sock := filepath.Join(dir, "plain.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close() // accepted only for the connect to succeed
		}
	}()
	return sock
}

func describe(srcs []container.Source) []string {
	var out []string
	for _, s := range srcs {
		switch s.(type) {
		case *dockerapi.Client:
			out = append(out, "engine:"+s.Runtime().String())
		case *containerdapi.Client:
			out = append(out, "containerd:"+s.Runtime().String())
		case *criapi.Client:
			out = append(out, "cri:"+s.Runtime().String())
		}
	}
	return out
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestDetectAt lays out sockets in a directory and checks which sources
// detection builds, in which order, for which runtime.
func TestDetectAt(t *testing.T) {
	dir := t.TempDir()
	cri := serveCRI(t, dir)
	plain := plainSocket(t, dir)
	missing := filepath.Join(dir, "missing.sock")
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		s    Sockets
		want []string
	}{
		{"nothing", Sockets{missing, missing, missing, missing}, nil},
		{"a directory is no socket", Sockets{Docker: dir}, nil},
		{"docker and containerd without CRI", Sockets{Docker: plain, Containerd: plain},
			[]string{"engine:docker", "containerd:containerd"}},
		{"containerd with CRI", Sockets{Containerd: cri}, []string{"cri:containerd", "containerd:containerd"}},
		{"cri-o", Sockets{CRIO: cri}, []string{"cri:cri-o"}},
		{"everything", Sockets{plain, plain, cri, cri},
			[]string{"engine:docker", "engine:podman", "cri:containerd", "containerd:containerd", "cri:cri-o"}},
	} {
		if got := describe(DetectAt(ctx, tc.s, quiet)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestDetectSkipsDockerNamespace runs a Docker container and checks the
// containerd source detection builds next to Docker does not list it
// (Docker's own source does).
func TestDetectSkipsDockerNamespace(t *testing.T) {
	testutil.RequireDocker(t)
	ctrd := containerdapi.DockerSocket
	if isSocket(containerdapi.DefaultSocket) {
		ctrd = containerdapi.DefaultSocket
	}
	testutil.Require(t, isSocket(ctrd), "containerd's socket (run scripts/docker-up.sh)")
	name := "vigil-test-detect"
	_ = exec.Command("/usr/bin/docker", "rm", "-f", name).Run() // a leftover of an earlier run, usually none
	testutil.RunOnCleanup(t, "/usr/bin/docker", "rm", "-f", name)
	out, err := exec.Command("/usr/bin/docker", "run", "-d", "--name", name, "vigil-test/busybox:1", "sleep", "60").Output()
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(string(out))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srcs := DetectAt(ctx, Sockets{Docker: testutil.DockerSocket, Containerd: ctrd}, quiet)
	if got := describe(srcs); !slices.Equal(got, []string{"engine:docker", "containerd:containerd"}) {
		t.Fatalf("sources %v", got)
	}
	for _, s := range srcs {
		ids, err := s.List(ctx)
		if err != nil {
			t.Fatalf("%s: %v", s.Name(), err)
		}
		if listed := slices.Contains(ids, id); listed != (s.Runtime() == container.RuntimeDocker) {
			t.Errorf("%s lists the Docker container: %v", s.Name(), listed)
		}
	}
}
