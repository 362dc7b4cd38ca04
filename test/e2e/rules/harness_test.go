// Package rules_test proves Vigil's default rules on real attacks and real
// work, through the agent users run: TestMain builds the vigil binary as
// `make build` does, and each test starts it as a separate process
// (`vigil run`, embedded rules, default configuration) and reads its JSON
// alerts from stdout. Each attack is performed for real, with the real
// tool where Debian packages one (on the host, or in a container of the
// local busybox image), and the test asserts that its rule fired exactly
// once with the exact rule name, priority, container and process.
package rules_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/testutil"
)

// built is what TestMain prepared: the work directory and the programs
// built into it.
var built struct {
	dir     string // world-readable, below /opt: see workDir
	vigil   string // the agent, built as `make build` builds it
	kubectl string // stand-ins for tools Debian does not package
	xmrig   string
	err     error
}

func TestMain(m *testing.M) {
	if action := os.Getenv(helperEnv); action != "" {
		os.Exit(runHelper(action))
	}
	start := time.Now()
	built.err = build()
	if built.err == nil {
		fmt.Printf("built vigil and the stand-ins into %s in %s\n", built.dir, time.Since(start).Round(time.Millisecond))
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// build makes the work directory and builds into it the vigil binary
// with the flags of the Makefile's build target (static, no cgo, gRPC
// without its tracing package, trimmed paths, stripped), and the
// stand-in tools, also static so that they run in the busybox image.
func build() error {
	// Below /opt rather than /tmp: an agent installed in a program
	// directory, as users install it, and programs whose execution is
	// not itself suspicious. Creating it needs root, as every test does.
	if err := os.MkdirAll("/opt", 0o755); err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	dir, err := os.MkdirTemp("/opt", "vge2e-")
	if err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	atExit(func() {
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintln(os.Stderr, "cleanup:", err)
		}
	})
	built.dir = dir
	bin := filepath.Join(dir, "bin")
	for _, d := range []string{dir, bin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.Chmod(d, 0o755); err != nil {
			return err
		}
	}
	// go test puts its own GOROOT/bin first in the test's PATH.
	gobin := "go"
	targets := []struct {
		out *string
		pkg string
	}{
		{&built.vigil, "github.com/vigilsec/vigil/cmd/vigil"},
		{&built.kubectl, "github.com/vigilsec/vigil/test/e2e/rules/standin/kubectl"},
		{&built.xmrig, "github.com/vigilsec/vigil/test/e2e/rules/standin/xmrig"},
	}
	for _, tg := range targets {
		*tg.out = filepath.Join(bin, filepath.Base(tg.pkg))
		cmd := exec.Command(gobin, "build", "-trimpath", "-tags", "grpcnotrace",
			"-ldflags", "-s -w -X main.version=e2e -X main.commit=e2e", "-o", *tg.out, tg.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", tg.pkg, err, out)
		}
	}
	return nil
}

// requireBuilt checks the prerequisites every test of the suite has:
// root, BTF, and the programs TestMain built.
func requireBuilt(t *testing.T) {
	t.Helper()
	testutil.RequireBPF(t)
	if built.err != nil {
		t.Fatal(built.err)
	}
}

// workDir is the suite's work directory: world-readable, outside the
// temporary directories, removed at the end.
func workDir(t *testing.T) string {
	t.Helper()
	requireBuilt(t)
	return built.dir
}

// cleanups run once the whole suite is done: the shared container, the
// network namespace and the work directory outlive single tests.
var (
	cleanupMu sync.Mutex
	cleanups  []func()
)

func atExit(f func()) {
	cleanupMu.Lock()
	cleanups = append(cleanups, f)
	cleanupMu.Unlock()
}

// runAtExit runs the command name with args when the run ends, to remove
// what the suite made outside its work directory. A failure is printed,
// not failed, as testutil.RunOnCleanup does for one test: the verdicts
// are made, and the thing may be gone by itself.
func runAtExit(name string, args ...string) {
	atExit(func() {
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "cleanup: %s %s: %v: %s\n", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
	})
}

func cleanup() {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
}
