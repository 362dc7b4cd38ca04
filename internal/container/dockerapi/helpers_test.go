package dockerapi

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

// dockerCLI runs the docker command line (Debian's, which matches its
// daemon, when installed) and returns its trimmed output.
func dockerCLI(t *testing.T, args ...string) string {
	t.Helper()
	bin := "docker"
	if _, err := os.Stat("/usr/bin/docker"); err == nil {
		bin = "/usr/bin/docker"
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// removeContainer removes a test container at cleanup, whatever its state.
func removeContainer(t *testing.T, name string) {
	bin := "/usr/bin/docker"
	if _, err := os.Stat(bin); err != nil {
		bin = "docker"
	}
	testutil.RunOnCleanup(t, bin, "rm", "-f", name)
}

// serveUnix serves h on a unix socket in a temporary directory, the way an
// engine does, and returns the socket's path.
func serveUnix(t *testing.T, h http.Handler) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "engine.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return sock
}

// fixtureEngine serves canned Engine API answers: container inspections by
// the id inside them, and one image.
func fixtureEngine(t *testing.T, inspections map[string][]byte, image []byte) string {
	return serveUnix(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasPrefix(r.URL.Path, "/containers/") && strings.HasSuffix(r.URL.Path, "/json"):
			id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/containers/"), "/json")
			if b, ok := inspections[id]; ok {
				w.Write(b)
				return
			}
		case strings.HasPrefix(r.URL.Path, "/images/") && image != nil:
			w.Write(image)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"message":"No such container"}`))
	}))
}
