package sockguard

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

const testImage = "vigil-test/busybox:1"

func dockerCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin := "/usr/bin/docker" // Debian's CLI, matching its daemon
	if _, err := os.Stat(bin); err != nil {
		bin = "docker"
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// TestDockerContainerBlocked: an all-containers Block rule refuses a
// connect inside a registered Docker container (in its own network
// namespace, to its own loopback) while the host's connect to the same
// port on its loopback goes through.
func TestDockerContainerBlocked(t *testing.T) {
	testutil.RequireDocker(t)
	h := openGuard(t, Config{})
	name := "vigil-sockguard-" + strconv.Itoa(os.Getpid())
	_, _ = dockerCLI(t, "rm", "-f", name) // a leftover of an earlier run, usually none
	t.Cleanup(func() {
		if out, err := dockerCLI(t, "rm", "-f", name); err != nil {
			t.Logf("cleanup: docker rm: %v: %s", err, out)
		}
	})
	id, err := dockerCLI(t, "run", "-d", "--network", "none", "--name", name, testImage, "sleep", "300")
	if err != nil {
		t.Fatalf("docker run: %v: %s", err, id)
	}
	cg, err := CgroupID(filepath.Join(h.g.Status().CgroupRoot, "docker", id))
	if err != nil {
		t.Fatal(err)
	}

	hostL := listen(t, "tcp4", "127.0.0.1:0")
	port := strconv.Itoa(hostL.Port)
	nc := []string{"exec", name, "busybox", "nc", "127.0.0.1", port}
	// Nothing listens in the container: before the rule, the kernel
	// answers the SYN with a reset.
	if out, err := dockerCLI(t, nc...); err == nil || !strings.Contains(out, "Connection refused") {
		t.Fatalf("nc in the container before the rule: %v: %q, want connection refused", err, out)
	}

	if err := h.g.SetContainer(cg, true); err != nil {
		t.Fatal(err)
	}
	h.apply(t, Rule{ID: 77, Scope: AllContainers(), Port: uint16(hostL.Port), Proto: ProtoTCP, Verdict: Block})
	if out, err := dockerCLI(t, nc...); err == nil || !strings.Contains(out, "Operation not permitted") {
		t.Fatalf("nc in the container under the rule: %v: %q, want operation not permitted", err, out)
	}
	d := h.decision(t, cg)
	if d.RuleID != 77 || d.Verdict != Block || d.Hook != HookConnect4 || d.Comm != "busybox" ||
		d.Dst != netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(hostL.Port)) {
		t.Errorf("decision %+v", d)
	}
	if got := attempt(t, nil, tcp4("127.0.0.1", hostL.Port)); got != "ok" {
		t.Errorf("host connect to its own listener on the rule's port: %s, want ok", got)
	}
	hostL.acceptOne(t)
}
