package workload

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/proc"
)

// fakeContainers is a container.Lookuper whose answers a test changes.
type fakeContainers struct {
	mu sync.Mutex
	m  map[uint64]*container.Info
}

func (f *fakeContainers) Lookup(id uint64) (*container.Info, container.State) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if info, ok := f.m[id]; ok {
		if info.ID == "" {
			return info, container.StatePending
		}
		return info, container.StateComplete
	}
	return container.Host, container.StateHost
}

func (f *fakeContainers) set(id uint64, info *container.Info) {
	f.mu.Lock()
	f.m[id] = info
	f.mu.Unlock()
}

type fakeProcs map[uint32]proc.Process

func (f fakeProcs) Get(pid uint32) (proc.Process, bool) {
	p, ok := f[pid]
	return p, ok
}

func process(pid, sid uint32, serial uint64, exe string) proc.Process {
	return proc.Process{PID: pid, Serial: serial, Image: &proc.Image{Exe: exe, SID: sid}}
}

func writeCgroup(t *testing.T, root string, pid uint32, content string) {
	t.Helper()
	dir := filepath.Join(root, strconv.Itoa(int(pid)))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func podInfo(api bool) *container.Info {
	p := &container.Pod{Name: "web-x7k2p", Namespace: "shop", ContainerName: "app", FromAPI: api}
	if api {
		p.Owner = container.Owner{Job: "web"}
	}
	return &container.Info{ID: "c1", Name: "app", Pod: p}
}

func TestResolverFollowsContainerResolver(t *testing.T) {
	cs := &fakeContainers{m: map[uint64]*container.Info{10: {}}}
	var refined [][2]string
	r := NewResolver(Config{Containers: cs, Processes: fakeProcs{}, ProcRoot: t.TempDir(),
		Refined: func(from, to *Workload) { refined = append(refined, [2]string{from.ID, to.ID}) }})
	if w, ok := r.Resolve(10, 1); ok {
		t.Fatalf("pending container resolved to %q", w.ID)
	}
	cs.set(10, podInfo(false))
	w, ok := r.Resolve(10, 1)
	if !ok || w.ID != "k8s/shop/daemonset/web/app" || !w.Inferred {
		t.Fatalf("inferred: got %+v %v", w, ok)
	}
	if w2, _ := r.Resolve(10, 1); w2 != w {
		t.Fatal("a cache hit returned a different workload")
	}
	// The API's description arrives: the container resolver publishes a
	// new Info, and the workload follows.
	cs.set(10, podInfo(true))
	w, ok = r.Resolve(10, 1)
	if !ok || w.ID != "k8s/shop/job/web/app" || w.Inferred {
		t.Fatalf("from the API: got %+v %v", w, ok)
	}
	if len(refined) != 1 || refined[0] != [2]string{"k8s/shop/daemonset/web/app", "k8s/shop/job/web/app"} {
		t.Fatalf("Refined calls: %v", refined)
	}
	// A second replica of the job, in its own cgroup.
	cs.set(11, podInfo(true))
	r.Resolve(11, 2)
	if got := r.Cgroups("k8s/shop/job/web/app"); !slices.Equal(got, []uint64{10, 11}) {
		t.Fatalf("Cgroups: %v", got)
	}
}

func TestResolverHost(t *testing.T) {
	root := t.TempDir()
	writeCgroup(t, root, 100, "0::/system.slice/nginx.service\n")
	writeCgroup(t, root, 200, "0::/user.slice/user-1000.slice/session-3.scope\n")
	writeCgroup(t, root, 201, "0::/user.slice/user-1000.slice/session-3.scope\n")
	procs := fakeProcs{
		100: process(100, 100, 1, "/usr/sbin/nginx"),
		200: process(200, 200, 2, "/usr/sbin/sshd"),
		201: process(201, 200, 3, "/usr/bin/bash"),
		// 300's session leader is gone: it is named by its own program.
		300: process(300, 299, 4, "/usr/bin/orphan"),
	}
	r := NewResolver(Config{Containers: &fakeContainers{m: map[uint64]*container.Info{}}, Processes: procs, ProcRoot: root})
	for _, tc := range []struct {
		cg  uint64
		pid uint32
		id  string
	}{
		{1, 100, "host/unit/nginx.service"},
		{2, 201, "host/exe/usr/sbin/sshd"},
		{2, 200, "host/exe/usr/sbin/sshd"},
		{3, 300, "host/exe/usr/bin/orphan"},
	} {
		w, ok := r.Resolve(tc.cg, tc.pid)
		if !ok || w.ID != tc.id {
			t.Errorf("Resolve(%d, %d) = %+v %v, want %s", tc.cg, tc.pid, w, ok, tc.id)
		}
	}
	// The session leader's pid is reused by another program: the
	// session's entry is recomputed.
	procs[200] = process(200, 200, 9, "/usr/bin/tmux")
	if w, _ := r.Resolve(2, 201); w.ID != "host/exe/usr/bin/tmux" {
		t.Errorf("after pid reuse: %q", w.ID)
	}
	// Kernel threads have no program.
	procs[2] = process(2, 0, 5, "")
	if w, ok := r.Resolve(0, 2); ok {
		t.Errorf("kernel thread resolved to %q", w.ID)
	}
}

func TestResolverV1Host(t *testing.T) {
	root := t.TempDir()
	writeCgroup(t, root, 50, "4:cpu:/\n1:name=systemd:/system.slice/cron.service\n")
	writeCgroup(t, root, 60, "4:cpu:/\n1:name=systemd:/user.slice/user-0.slice/session-1.scope\n")
	procs := fakeProcs{50: process(50, 50, 1, "/usr/sbin/cron"), 51: process(51, 50, 2, "/bin/sh"),
		60: process(60, 60, 3, "/usr/bin/login")}
	r := NewResolver(Config{Processes: procs, ProcRoot: root})
	// Every process carries the same cgroup id on a v1 host.
	for pid, want := range map[uint32]string{51: "host/unit/cron.service", 60: "host/exe/usr/bin/login", 50: "host/unit/cron.service"} {
		if w, ok := r.Resolve(1, pid); !ok || w.ID != want {
			t.Errorf("pid %d: %+v %v, want %s", pid, w, ok, want)
		}
	}
}

func TestResolverWithoutTable(t *testing.T) {
	self := uint32(os.Getpid())
	r := NewResolver(Config{})
	w, ok := r.Resolve(0, self)
	if !ok || !w.IsHost() {
		t.Fatalf("own process: %+v %v", w, ok)
	}
	if _, ok := r.Resolve(0, 1<<30); ok {
		t.Error("a pid that does not exist resolved")
	}
}

func TestResolverHitDoesNotAllocate(t *testing.T) {
	cs := &fakeContainers{m: map[uint64]*container.Info{10: podInfo(true)}}
	root := t.TempDir()
	writeCgroup(t, root, 100, "0::/system.slice/nginx.service\n")
	writeCgroup(t, root, 200, "0::/user.slice/user-1000.slice/session-3.scope\n")
	procs := fakeProcs{100: process(100, 100, 1, "/usr/sbin/nginx"), 200: process(200, 200, 2, "/usr/sbin/sshd")}
	r := NewResolver(Config{Containers: cs, Processes: procs, ProcRoot: root})
	for _, c := range []struct {
		cg  uint64
		pid uint32
	}{{10, 1}, {1, 100}, {2, 200}} {
		if _, ok := r.Resolve(c.cg, c.pid); !ok {
			t.Fatalf("Resolve(%d, %d) failed", c.cg, c.pid)
		}
		if n := testing.AllocsPerRun(100, func() { r.Resolve(c.cg, c.pid) }); n != 0 {
			t.Errorf("Resolve(%d, %d) hit allocates %v times", c.cg, c.pid, n)
		}
	}
}

func BenchmarkResolveHit(b *testing.B) {
	cs := &fakeContainers{m: map[uint64]*container.Info{10: podInfo(true)}}
	r := NewResolver(Config{Containers: cs, Processes: fakeProcs{}})
	r.Resolve(10, 1)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.Resolve(10, 1)
		}
	})
}
