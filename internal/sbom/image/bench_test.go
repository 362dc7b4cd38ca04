package image

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/container/dockerapi"
	"github.com/vigilsec/vigil/internal/sbom/internal/sbomtest"
	"github.com/vigilsec/vigil/internal/testutil"
)

// BenchmarkImage inventories the fixture image (a Debian-like root with
// one package of each kind, a Go binary and busybox) from a docker save
// archive and through the Engine API, cold (caches dropped) and warm.
func BenchmarkImage(b *testing.B) {
	testutil.RequireDocker(b)
	ctx := context.Background()
	dir := b.TempDir()
	sbomtest.RootFS(b, dir, true)
	tag := fmt.Sprintf("vigil-test/sbom-bench:%d", time.Now().UnixNano())
	tarball := filepath.Join(b.TempDir(), "rootfs.tar")
	if out, err := exec.Command("tar", "-C", dir, "-cf", tarball, ".").CombinedOutput(); err != nil {
		b.Fatal(err, string(out))
	}
	if out, err := exec.Command(docker, "import", tarball, tag).CombinedOutput(); err != nil {
		b.Fatal(err, string(out))
	}
	testutil.RunOnCleanup(b, docker, "rmi", "-f", tag)
	saved := filepath.Join(b.TempDir(), "saved.tar")
	if out, err := exec.Command(docker, "save", "-o", saved, tag).CombinedOutput(); err != nil {
		b.Fatal(err, string(out))
	}
	client := dockerapi.New(testutil.DockerSocket, container.RuntimeDocker)
	sources := map[string]func() error{
		"archive": func() error { _, err := ScanArchive(ctx, saved, Options{}); return err },
		"engine": func() error {
			rc, err := client.SaveImage(ctx, tag)
			if err != nil {
				return err
			}
			defer rc.Close()
			_, err = ScanStream(ctx, rc, tag, Options{})
			return err
		},
	}
	for _, src := range []string{"archive", "engine"} {
		for _, cold := range []bool{true, false} {
			name := src + "/warm"
			if cold {
				name = src + "/cold"
			}
			b.Run(name, func(b *testing.B) {
				if !cold {
					if err := sources[src](); err != nil {
						b.Fatal(err)
					}
				}
				for b.Loop() {
					if cold {
						b.StopTimer()
						if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0o200); err != nil {
							b.Skipf("cannot drop caches: %v", err)
						}
						b.StartTimer()
					}
					if err := sources[src](); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
