// Package e2e runs the built vigil binary against the real kernel.
package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/eventjson"
	"github.com/vigilsec/vigil/internal/testutil"
)

var build struct {
	once sync.Once
	dir  string
	err  error
	out  []byte
}

// buildVigil compiles the binary once for all tests, the way a user does:
// static, no cgo.
func buildVigil(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "vigil-e2e")
		if build.err != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(build.dir, "vigil"), "../../cmd/vigil")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		build.out, build.err = cmd.CombinedOutput()
	})
	if build.err != nil {
		t.Fatalf("go build: %v\n%s", build.err, build.out)
	}
	return filepath.Join(build.dir, "vigil")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		if err := os.RemoveAll(build.dir); err != nil {
			fmt.Fprintln(os.Stderr, "remove the build:", err)
			code = max(code, 1)
		}
	}
	os.Exit(code)
}

// startEvents runs `vigil events` with args and returns its decoded output
// lines as they arrive, once it reports that it streams.
func startEvents(t *testing.T, bin string, args ...string) <-chan eventjson.Event {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"events"}, args...)...)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // vigil events stops cleanly on SIGINT
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Error(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("vigil events: %v", err)
		}
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "streaming events") {
				close(ready)
			}
			t.Log("vigil: " + sc.Text())
		}
	}()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatal("vigil events did not start streaming")
	}
	events := make(chan eventjson.Event, 1024)
	go func() {
		dec := json.NewDecoder(stdout)
		for {
			var ev eventjson.Event
			// The stream ends when the test stops vigil; a torn last
			// line then is expected, and next() reports a short stream.
			if err := dec.Decode(&ev); err != nil {
				close(events)
				return
			}
			events <- ev
		}
	}()
	return events
}

func next(t *testing.T, events <-chan eventjson.Event, match func(eventjson.Event) bool) eventjson.Event {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("vigil output ended")
			}
			if match(ev) {
				return ev
			}
		case <-deadline:
			t.Fatal("no matching event within 15s")
		}
	}
}

func TestEventsStreamsExecWithAncestry(t *testing.T) {
	testutil.RequireBPF(t)
	bin := buildVigil(t)
	events := startEvents(t, bin, "--type", "exec,procexit", "--comm", "sleep")
	dir := t.TempDir()
	cmd := exec.Command("/bin/sleep", "0.01")
	cmd.Dir = dir
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := uint32(cmd.Process.Pid)
	ev := next(t, events, func(e eventjson.Event) bool { return e.Kind == "exec" && e.PID == pid })
	if ev.Type != "execve" || ev.PPID != uint32(os.Getpid()) || ev.Comm != "sleep" || ev.Ret != 0 {
		t.Errorf("header %+v", ev)
	}
	if ev.Exec == nil || ev.Exec.Filename != "/bin/sleep" || ev.Exec.Cwd != dir ||
		strings.Join(ev.Exec.Args, " ") != "/bin/sleep 0.01" {
		t.Fatalf("exec body %+v", ev.Exec)
	}
	if ev.Process == nil || len(ev.Process.Ancestors) < 2 {
		t.Fatalf("process view %+v", ev.Process)
	}
	if a := ev.Process.Ancestors; a[0].PID != uint32(os.Getpid()) || a[len(a)-1].PID != 1 {
		t.Errorf("ancestors %+v: want this test first and pid 1 last", a)
	}
	exit := next(t, events, func(e eventjson.Event) bool { return e.Kind == "exit" && e.PID == pid })
	if exit.Type != "procexit" || exit.Exit == nil || exit.Exit.Code != 0 || exit.Process == nil || exit.Process.Exe != ev.Exec.Exe {
		t.Errorf("exit %+v %+v", exit.Exit, exit.Process)
	}
	if time.Since(ev.Time) > time.Minute || ev.Time.After(time.Now()) {
		t.Errorf("event time %s is not now", ev.Time)
	}
}

func TestEventsRejectsUnknownType(t *testing.T) {
	bin := buildVigil(t)
	out, err := exec.Command(bin, "events", "--type", "teleport").CombinedOutput()
	if err == nil || !strings.Contains(string(out), `--type "teleport"`) {
		t.Fatalf("want a clear error, got %v: %s", err, out)
	}
}

func TestEventsNameTheContainer(t *testing.T) {
	testutil.RequireBPF(t)
	testutil.RequireDocker(t)
	bin := buildVigil(t)
	events := startEvents(t, bin, "--type", "exec", "--comm", "sleep")
	out, err := exec.Command("/usr/bin/docker", "run", "-d", "--rm", "vigil-test/busybox:1", "sleep", "1").Output()
	if err != nil {
		t.Fatalf("docker run: %v", err)
	}
	id := strings.TrimSpace(string(out))
	ev := next(t, events, func(e eventjson.Event) bool { return e.Container != nil && e.Container.ID == id[:12] })
	if ev.Container.Runtime != "docker" || ev.Container.Image != "vigil-test/busybox:1" || ev.Container.Name == "" {
		t.Errorf("container block %+v", ev.Container)
	}
}

func TestEventsShowLoaderVariablesOfSecureExec(t *testing.T) {
	testutil.RequireBPF(t)
	bin := buildVigil(t)
	events := startEvents(t, bin, "--type", "execve", "--comm", "su")
	cmd := exec.Command("/usr/bin/su", "--help")
	cmd.Env = []string{"LD_PRELOAD=/nonexistent/e2e.so", "API_TOKEN=do-not-copy"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	testutil.RunToExit(t, cmd) // only the exec matters
	pid := uint32(cmd.Process.Pid)
	ev := next(t, events, func(e eventjson.Event) bool { return e.Kind == "exec" && e.PID == pid })
	if ev.Exec == nil || !ev.Exec.Secure || strings.Join(ev.Exec.LoaderEnv, ",") != "LD_PRELOAD=/nonexistent/e2e.so" ||
		ev.Exec.UID != 65534 || ev.Exec.EUID != 0 || ev.Exec.EnvTruncated {
		t.Fatalf("exec body %+v", ev.Exec)
	}
}
