package container

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/testutil"
)

// fakeContainerCgroup makes a real cgroup shaped like a Docker container's
// (<root>/vigil-test-<pid>/docker/<id>) in the unified hierarchy, with no
// process in it, and returns its id. The resolver cannot tell it from a
// container's cgroup made by runc, which is the point.
func fakeContainerCgroup(t *testing.T, id string) uint64 {
	t.Helper()
	testutil.Require(t, os.Geteuid() == 0, "root (the test makes cgroups)")
	fs := openCgroupFS("/sys/fs/cgroup", 100)
	testutil.Require(t, fs.available(), "a cgroup v2 hierarchy")
	fs.close()
	top := filepath.Join(fs.root, "vigil-test-"+strconv.Itoa(os.Getpid()))
	dir := filepath.Join(top, "docker", id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.Remove(dir); err != nil {
			t.Error(err)
		}
		// The parents hold every fake container of the test: the last
		// cleanup removes them, the ones before find them busy.
		for _, p := range []string{filepath.Dir(dir), top} {
			if err := os.Remove(p); err != nil && !errors.Is(err, syscall.EBUSY) && !errors.Is(err, syscall.ENOTEMPTY) {
				t.Error(err)
			}
		}
	})
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Ino
}

func TestLookupByHandle(t *testing.T) {
	cg := fakeContainerCgroup(t, id1)
	r := New(Config{})
	defer r.Close()
	if info, st := r.Lookup(1); st != StateHost || info != Host {
		t.Errorf("root cgroup: %+v %s", info, st)
	}
	info, st := r.Lookup(cg)
	if info.ID != id1 || info.Runtime != RuntimeDocker || st != StatePending {
		t.Fatalf("Lookup = %q %s %s, want the id, docker, pending", info.ID, info.Runtime, st)
	}
	// Without a source the pending fetch fails at once: id only.
	r.fetch(context.Background(), r.ctrs[id1])
	if _, st := r.Lookup(cg); st != StateIDOnly {
		t.Errorf("no source for docker: %s, want id-only", st)
	}
	s := r.Stats()
	if s.HandleResolves != 2 || s.NoSource != 1 || s.NotYetKnown != 2 { // the root and the container
		t.Errorf("stats %+v", s)
	}
	if info, st := r.Lookup(cg + 1<<40); st != StateUnknown || info.ID != "" {
		t.Errorf("a cgroup id that does not exist: %q %s", info.ID, st)
	}
	r.Lookup(cg + 1<<40) // remembered: no second system call
	if s := r.Stats(); s.CgroupMisses != 3 || s.Unresolved != 2 {
		t.Errorf("unresolvable id retried at once: %+v", s)
	}
}

// TestLookupByWalk disables file handles, as an unprivileged agent or an
// older kernel would, and checks that the walk resolves the cgroup for a
// waiting output stage.
func TestLookupByWalk(t *testing.T) {
	cg := fakeContainerCgroup(t, id2)
	r := New(Config{})
	r.fs.handles.Store(false)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, st := r.Lookup(cg); st != StateUnknown {
		t.Fatalf("without handles the first lookup is %s, want unknown", st)
	}
	info, st := r.WaitFor(context.Background(), cg, 2*time.Second)
	if info.ID != id2 || st != StateIDOnly {
		t.Errorf("after the walk: %q %s, want the id (no source: id-only)", info.ID, st)
	}
	if s := r.Stats(); s.Walks == 0 || s.WaitResolved != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestLookupHitAllocs(t *testing.T) {
	r := New(Config{})
	defer r.Close()
	c := r.attach(42, "/docker/"+id1)
	r.publish(c, (&Info{ID: id1, Runtime: RuntimeDocker, Name: "web"}).seal(), StateComplete)
	r.attach(43, "/user.slice")
	if n := testing.AllocsPerRun(1000, func() {
		if info, st := r.Lookup(42); st != StateComplete || info.Name != "web" {
			t.Fatal("miss")
		}
		if _, st := r.Lookup(43); st != StateHost {
			t.Fatal("host miss")
		}
	}); n != 0 {
		t.Errorf("a cache hit allocates %v times", n)
	}
}

func TestCacheBounds(t *testing.T) {
	r := New(Config{MaxContainers: 3, MaxCgroups: 4, QueueLen: 100})
	ids := []string{id1, id2, "c" + id1[1:], "d" + id1[1:], "e" + id1[1:]}
	for n, id := range ids[:3] {
		r.attach(uint64(100+n), "/docker/"+id)
	}
	r.mu.Lock()
	r.ctrs[ids[1]].deadAt = time.Now()
	r.mu.Unlock()
	r.attach(103, "/docker/"+ids[3]) // full: the dead one goes first
	r.mu.RLock()
	_, deadKept := r.ctrs[ids[1]]
	_, cgKept := r.cgroups[101]
	r.mu.RUnlock()
	if deadKept || cgKept {
		t.Error("the dead container (or its cgroup) was kept while live ones were evicted")
	}
	r.attach(104, "/docker/"+ids[4])
	r.attach(105, "/user.slice")
	r.attach(106, "/system.slice")
	s := r.Stats()
	if s.Containers > 3 || s.Cgroups > 4 || s.Evicted == 0 {
		t.Errorf("caches not bounded: %+v", s)
	}
}

func TestQueueFull(t *testing.T) {
	r := New(Config{QueueLen: 1}) // not started: nothing drains the queue
	r.attach(1001, "/docker/"+id1)
	r.attach(1002, "/docker/"+id2)
	if _, st := r.Lookup(1002); st != StateIDOnly {
		t.Errorf("a fetch that could not be queued left the container %s, want id-only", st)
	}
	if s := r.Stats(); s.QueueDrops != 1 {
		t.Errorf("drops %d, want 1", s.QueueDrops)
	}
}

func TestDeadContainersEvicted(t *testing.T) {
	r := New(Config{DeadGrace: 50 * time.Millisecond})
	r.attach(7, "/docker/"+id1)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.onEvent(nil, RuntimeEvent{ID: id1, Action: ActionDie})
	deadline := time.Now().Add(3 * time.Second)
	for r.Stats().DeadEvicted == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a dead container was never evicted")
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.mu.RLock()
	_, kept := r.cgroups[7]
	r.mu.RUnlock()
	if kept {
		t.Error("the dead container's cgroup is still cached")
	}
}

func TestLookupPID(t *testing.T) {
	proc := t.TempDir()
	write := func(pid, content string) {
		if err := os.MkdirAll(filepath.Join(proc, pid), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(proc, pid, "cgroup"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A v1-only host: the only v2 trace is the root.
	write("10", "12:pids:/docker/"+id1+"\n1:name=systemd:/docker/"+id1+"\n0::/\n")
	write("11", "12:pids:/user.slice\n0::/\n")
	r := New(Config{ProcRoot: proc, QueueLen: 10})
	if info, st := r.LookupPID(10); info.ID != id1 || st != StatePending {
		t.Errorf("v1 container: %q %s", info.ID, st)
	}
	if _, st := r.LookupPID(11); st != StateHost {
		t.Errorf("v1 host process: %s", st)
	}
	if _, st := r.LookupPID(12); st != StateUnknown {
		t.Errorf("missing process: %s", st)
	}
}
