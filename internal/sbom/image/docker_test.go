package image

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/container/dockerapi"
	"github.com/vigilsec/vigil/internal/sbom"
	"github.com/vigilsec/vigil/internal/sbom/internal/sbomtest"
	"github.com/vigilsec/vigil/internal/sbom/scan"
	"github.com/vigilsec/vigil/internal/testutil"
)

// docker is Debian's CLI, matching its daemon (scripts/docker-up.sh).
const docker = "/usr/bin/docker"

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// The fixture root, imported as a Docker image, is inventoried the same
// way from its directory, a docker save archive, the Engine API's export
// and a running container.
func TestImageContainerAndRootFSGiveTheSamePackages(t *testing.T) {
	testutil.RequireDocker(t)
	_, err := os.Stat("/bin/busybox")
	testutil.Require(t, err == nil, "/bin/busybox (busybox-static, from scripts/docker-up.sh)")
	ctx := context.Background()
	dir := t.TempDir()
	want := sbomtest.RootFS(t, dir, true)

	fromDir, err := scan.Scan(ctx, dir, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sbomtest.Equal(t, fromDir.Packages, want)

	tag := fmt.Sprintf("vigil-test/sbom-fixture:%d", time.Now().UnixNano())
	archive := filepath.Join(t.TempDir(), "rootfs.tar")
	run(t, "tar", "-C", dir, "-cf", archive, ".")
	imageID := run(t, docker, "import", archive, tag)
	testutil.RunOnCleanup(t, docker, "rmi", "-f", tag)

	t.Run("saved archive", func(t *testing.T) {
		saved := filepath.Join(t.TempDir(), "saved.tar")
		run(t, docker, "save", "-o", saved, tag)
		inv, err := ScanArchive(ctx, saved, Options{})
		if err != nil {
			t.Fatal(err)
		}
		sbomtest.Equal(t, inv.Packages, want)
		if inv.Target.Kind != sbom.TargetImage || inv.Target.ID != imageID || len(inv.Errors) != 0 {
			t.Errorf("target %+v (image %s), errors %+v", inv.Target, imageID, inv.Errors)
		}
	})
	t.Run("engine API", func(t *testing.T) {
		c := dockerapi.New(testutil.DockerSocket, container.RuntimeDocker)
		rc, err := c.SaveImage(ctx, tag)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		inv, err := ScanStream(ctx, rc, tag, Options{})
		if err != nil {
			t.Fatal(err)
		}
		sbomtest.Equal(t, inv.Packages, want)
		if inv.Target != (sbom.Target{Kind: sbom.TargetImage, Name: tag, ID: imageID}) || len(inv.Errors) != 0 {
			t.Errorf("target %+v, errors %+v", inv.Target, inv.Errors)
		}
	})
	t.Run("engine API, unknown image", func(t *testing.T) {
		c := dockerapi.New(testutil.DockerSocket, container.RuntimeDocker)
		_, err := c.SaveImage(ctx, "vigil-test/no-such-image:0")
		if err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("running container", func(t *testing.T) {
		id := run(t, docker, "run", "-d", "--rm", tag, "/bin/sleep", "300")
		testutil.RunOnCleanup(t, docker, "rm", "-f", id)
		c := dockerapi.New(testutil.DockerSocket, container.RuntimeDocker)
		inv, err := scan.Container(ctx, c, id[:12], scan.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sbomtest.Equal(t, inv.Packages, want)
		if inv.Target != (sbom.Target{Kind: sbom.TargetContainer, Name: id[:12], ID: id}) {
			t.Errorf("target %+v", inv.Target)
		}
		for _, e := range inv.Errors {
			t.Errorf("error: %+v", e)
		}
	})
}
