// Package testutil holds helpers shared by Vigil's kernel-facing tests.
package testutil

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// InCI reports whether the tests run in CI, where a missing prerequisite is a
// failure rather than a reason to skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// Require skips the test when ok is false, or fails it in CI.
func Require(t testing.TB, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if InCI() {
		t.Fatalf("prerequisite missing in CI: %s", what)
	}
	t.Skipf("prerequisite missing: %s", what)
}

// RequireBPF checks the prerequisites for loading Vigil's eBPF programs:
// root and kernel BTF.
func RequireBPF(t testing.TB) {
	t.Helper()
	Require(t, os.Geteuid() == 0, "root (loading eBPF needs CAP_BPF and CAP_PERFMON)")
	_, err := os.Stat("/sys/kernel/btf/vmlinux")
	Require(t, err == nil, "kernel BTF at /sys/kernel/btf/vmlinux")
}

// DockerSocket is where the container tests expect the Docker engine.
const DockerSocket = "/var/run/docker.sock"

// RequireDocker checks that the Docker engine answers on DockerSocket, as
// scripts/docker-up.sh leaves it, and that the test runs as root.
func RequireDocker(t testing.TB) {
	t.Helper()
	Require(t, os.Geteuid() == 0, "root (the container tests run docker and read every /proc entry)")
	conn, err := net.DialTimeout("unix", DockerSocket, 2*time.Second)
	if err == nil {
		err = conn.SetDeadline(time.Now().Add(2 * time.Second))
		if err == nil {
			_, err = conn.Write([]byte("GET /_ping HTTP/1.0\r\n\r\n"))
		}
		if err == nil {
			var b [16]byte
			_, err = io.ReadAtLeast(conn, b[:], 12) // "HTTP/1.0 200"
			if err == nil && string(b[9:12]) != "200" {
				err = errors.New("ping answered " + string(b[:12]))
			}
		}
		_ = conn.Close() // the answer is read; the ping is over either way
	}
	Require(t, err == nil, "a Docker engine answering on "+DockerSocket+" (run scripts/docker-up.sh)")
}

// RequirePodman checks that podman is installed, as scripts/docker-up.sh
// leaves it.
func RequirePodman(t testing.TB) {
	t.Helper()
	Require(t, os.Geteuid() == 0, "root (podman runs rootful in the tests)")
	_, err := exec.LookPath("podman")
	Require(t, err == nil, "podman in PATH (run scripts/docker-up.sh)")
}

// CopyExecutable writes a copy of the program at src to dst, or to a file
// named dst in a fresh temporary directory when dst is a bare name, and
// returns its path. Tests run the copy so that its events carry a name no
// other process on the machine has.
func CopyExecutable(t testing.TB, src, dst string) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close() //nolint:errcheck // read only: closing loses nothing
	path := dst
	if filepath.Base(dst) == dst {
		path = filepath.Join(t.TempDir(), dst)
	}
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// KillAndWait kills the child and reaps it, for a test's cleanup. Both
// errors are expected and dropped: Kill fails when the child has already
// exited, and Wait reports the kill itself ("signal: killed").
func KillAndWait(cmd *exec.Cmd) {
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// RunOnCleanup runs the command name with args when the test ends, to
// remove what the test made outside its temporary directory (containers,
// images, network namespaces). A failure is logged rather than failed:
// the verdict is already made, and the thing may be gone by itself.
func RunOnCleanup(t testing.TB, name string, args ...string) {
	t.Helper()
	t.Cleanup(func() {
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Logf("cleanup: %s %s: %v: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
	})
}

// RemoveOnCleanup removes path when the test ends, for files a test puts
// outside its temporary directory. A file already gone is fine (the test
// may have removed it); another failure is logged, as RunOnCleanup does.
func RemoveOnCleanup(t testing.TB, path string) {
	t.Helper()
	t.Cleanup(func() {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Logf("cleanup: %v", err)
		}
	})
}

// PublicTempDir returns a new temporary directory that every user can
// reach (mode 0755, in the system's temporary directory: t.TempDir's
// parent is private to the test's user), removed when the test ends. Tests
// that run a program as another user put it there.
func PublicTempDir(t testing.TB, pattern string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Error(err)
		}
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// RunToExit runs cmd to its end when its exit status is not the point (it
// fails on purpose, or only its exec matters): the test fails only when
// the program could not be started or waited for.
func RunToExit(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	var exit *exec.ExitError
	if err := cmd.Run(); err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
}

// RequireRoot skips the test when not run as root, or fails it in CI.
func RequireRoot(t testing.TB, why string) {
	t.Helper()
	Require(t, os.Geteuid() == 0, "root: "+why)
}
