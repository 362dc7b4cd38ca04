package container_test

import (
	"cmp"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/agent"
	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/sensor"
	"github.com/vigilsec/vigil/internal/testutil"
)

// cli runs a container engine's command line and returns its trimmed
// output. Debian's docker CLI is preferred: it matches Debian's daemon.
func cli(t testing.TB, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(dockerBin(bin), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func docker(t *testing.T, args ...string) string { return cli(t, "docker", args...) }

// removeAtCleanup removes a container when the test ends, whatever its state.
func removeAtCleanup(t testing.TB, bin, name string, extra ...string) {
	testutil.RunOnCleanup(t, dockerBin(bin), append(extra, "rm", "-f", name)...)
}

// cgroupOf returns the cgroup v2 id of a running process: the inode of its
// unified-hierarchy directory, the ground truth Lookup is checked against.
func cgroupOf(t testing.TB, pid string) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	path, ok := container.ProcCgroupV2Path(string(b))
	if !ok {
		t.Fatalf("no cgroup v2 line for pid %s:\n%s", pid, b)
	}
	for _, root := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		if st, err := os.Stat(filepath.Join(root, path)); err == nil && st.IsDir() {
			return st.Sys().(*syscall.Stat_t).Ino
		}
	}
	t.Fatalf("cgroup %s of pid %s not found", path, pid)
	return 0
}

// record is one exec in a container as the event path and the output stage
// saw it.
type record struct {
	ts       uint64 // event timestamp
	cgroupID uint64
	pid      uint32
	exe      string
	args     string
	flags    event.ExecFlags
	capEff   uint64

	info      *container.Info // what Lookup gave on the event path
	state     container.State
	handledAt time.Time

	final      *container.Info // after WaitFor in the output stage
	finalState container.State
	finalAt    time.Time
}

// harness runs the agent with a handler that does what the field registry
// will do on the event path (Lookup), plus an output stage that holds the
// events whose metadata was not there yet (WaitFor).
type harness struct {
	res   *container.Resolver
	agent *agent.Agent

	mu      sync.Mutex
	records []*record
	late    chan *record
	drops   int
}

// maxHold is how long the output stage may hold an event for metadata.
const maxHold = 2 * time.Second

func startHarness(t testing.TB, cfg container.Config) *harness {
	t.Helper()
	testutil.RequireBPF(t)
	h := &harness{res: container.New(cfg), late: make(chan *record, 256)}
	ctx, cancel := context.WithCancel(context.Background())
	if err := h.res.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case r := <-h.late:
				info, st := h.res.WaitFor(ctx, r.cgroupID, maxHold)
				h.mu.Lock()
				r.final, r.finalState, r.finalAt = info, st, time.Now()
				h.mu.Unlock()
			}
		}
	}()
	a, err := agent.Start(agent.Config{
		Sensor:  sensor.Config{Syscalls: []string{"execve", "execveat"}},
		Handler: h.handle,
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	h.agent = a
	t.Cleanup(func() {
		if err := a.Stop(); err != nil {
			t.Error(err)
		}
		cancel()
		<-done
		h.res.Close()
	})
	return h
}

// handle runs on the event path: it must not block.
func (h *harness) handle(_ int, ev *event.Event) {
	if ev.Kind != event.KindExec || ev.Ret != 0 {
		return
	}
	info, st := h.res.Lookup(ev.CgroupID)
	if st == container.StateHost {
		return
	}
	r := &record{
		ts: ev.Timestamp, cgroupID: ev.CgroupID, pid: ev.PID,
		exe: strings.Clone(ev.Exec.Exe), args: strings.Clone(ev.Exec.Args),
		flags: ev.Exec.Flags, capEff: ev.Exec.CapEffective,
		info: info, state: st, handledAt: time.Now(),
	}
	if st.Final() {
		r.final, r.finalState, r.finalAt = info, st, r.handledAt
	}
	h.mu.Lock()
	h.records = append(h.records, r)
	h.mu.Unlock()
	if !st.Final() {
		select {
		case h.late <- r:
		default:
			h.mu.Lock()
			h.drops++
			h.mu.Unlock()
		}
	}
}

// execs waits until at least one record matches pred and every matching
// record has its final answer, and returns them, oldest event first.
func (h *harness) execs(t testing.TB, what string, pred func(r *record) bool) []record {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var out []record
		ready := true
		h.mu.Lock()
		for _, r := range h.records {
			if pred(r) {
				out = append(out, *r)
				ready = ready && r.final != nil
			}
		}
		h.mu.Unlock()
		if len(out) > 0 && ready {
			slices.SortFunc(out, func(a, b record) int { return cmp.Compare(a.ts, b.ts) })
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("no exec event with a final answer for %s (%d seen)", what, len(out))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func inCgroup(id uint64) func(*record) bool { return func(r *record) bool { return r.cgroupID == id } }

// withArgs matches execs in a cgroup whose argv starts with argv0.
func withArgs(id uint64, argv0 string) func(*record) bool {
	return func(r *record) bool {
		return r.cgroupID == id && (r.args == argv0 || strings.HasPrefix(r.args, argv0+"\x00"))
	}
}

// runContainer starts a detached container after removing any leftover of
// the same name, and returns its id and the host pid of its first process.
func runContainer(t testing.TB, bin, name string, args ...string) (id, pid string) {
	t.Helper()
	var extra []string
	if bin == "podman" {
		extra = podmanGlobal
	}
	removeAtCleanup(t, bin, name, extra...)
	_ = exec.Command(dockerBin(bin), append(extra, "rm", "-f", name)...).Run() // a leftover of an earlier run, usually none
	id = cli(t, bin, append(append(extra, "run", "-d", "--name", name), args...)...)
	pid = cli(t, bin, append(extra, "inspect", "-f", "{{.State.Pid}}", name)...)
	return id, pid
}

// podmanGlobal are the podman flags this machine needs: runc and the
// cgroupfs manager (crun and systemd cgroups refuse the hybrid hierarchy).
var podmanGlobal = []string{"--cgroup-manager=cgroupfs", "--runtime", "runc"}

func dockerBin(bin string) string {
	if bin == "docker" {
		if _, err := os.Stat("/usr/bin/docker"); err == nil {
			return "/usr/bin/docker"
		}
	}
	return bin
}
