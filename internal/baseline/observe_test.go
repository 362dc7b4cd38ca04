package baseline

import (
	"crypto/sha256"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/syscalls"
	"github.com/vigilsec/vigil/internal/workload"
)

// podLookup answers every cgroup with one pod's container.
type podLookup struct{ Info *container.Info }

func (p podLookup) Lookup(uint64) (*container.Info, container.State) {
	return p.Info, container.StateComplete
}

var webPod = &container.Info{ID: strings.Repeat("c", 64), Name: "app", Pod: &container.Pod{
	Name: "web-7d9f8b6c5d-x2x4z", Namespace: "shop", ContainerName: "app", FromAPI: true,
	Owner: container.Owner{Deployment: "web", ReplicaSet: "web-7d9f8b6c5d"}}}

type observeHarness struct {
	*harness
	obs   *Observer
	table *proc.Table
	ids   *Identifier
}

// fakeProcRoot is a /proc where process 4242 runs /usr/bin/true.
func fakeProcRoot(t testing.TB) string {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "4242"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/usr/bin/true", filepath.Join(root, "4242", "exe")); err != nil {
		t.Fatal(err)
	}
	return root
}

func newObserveHarness(t testing.TB) *observeHarness {
	h := newHarness(t, nil)
	table := proc.New()
	env := &fields.Env{Table: table, Containers: podLookup{webPod}}
	ids := NewIdentifier(fakeProcRoot(t), 0, 1, 0)
	t.Cleanup(ids.Close)
	res := workload.NewResolver(workload.Config{Containers: env.Containers, Processes: table})
	obs := NewObserver(ObserverConfig{Engine: h.e, Workloads: res, Identities: ids, Env: env, Shards: 2})
	return &observeHarness{harness: h, obs: obs, table: table, ids: ids}
}

func execEvent(pid, ppid uint32, exe string) *event.Event {
	nr, _ := syscalls.Number("execve")
	return &event.Event{Kind: event.KindExec, Syscall: nr, PID: pid, TID: pid, PPID: ppid, CgroupID: 10,
		Comm: exe[strings.LastIndexByte(exe, '/')+1:], Exec: event.Exec{Filename: exe, Exe: exe, Args: exe, EUID: 101, SID: ppid}}
}

func (h *observeHarness) handle(ev *event.Event) {
	h.table.Apply(ev)
	h.obs.Handle(0, ev)
}

func openEvent(pid uint32, path string, flags uint32) *event.Event {
	nr, _ := syscalls.Number("openat")
	return &event.Event{Kind: event.KindOpen, Syscall: nr, PID: pid, TID: pid, CgroupID: 10, Ret: 3,
		Open: event.Open{Path: path, RawPath: path, DirFD: -100, Flags: flags}}
}

func socketEvent(pid uint32, name string, op event.SocketOp, typ uint16, local, remote string, ret int64) *event.Event {
	nr, _ := syscalls.Number(name)
	s := event.Socket{Op: op, FD: 3, Family: afInet, Type: typ}
	if local != "" {
		s.Local = netip.MustParseAddrPort(local)
	}
	if remote != "" {
		s.Remote = netip.MustParseAddrPort(remote)
	}
	return &event.Event{Kind: event.KindSocket, Syscall: nr, PID: pid, TID: pid, CgroupID: 10, Ret: ret, Socket: s}
}

func TestObserverLearnsFromEvents(t *testing.T) {
	h := newObserveHarness(t)
	const self = 4242
	const testBinary = "/usr/bin/true"
	mountNR, _ := syscalls.Number("mount")
	h.handle(execEvent(100, 1, "/bin/sh"))
	h.handle(execEvent(self, 100, testBinary))
	for _, ev := range []*event.Event{
		openEvent(self, "/var/log/app.log", oWronly|0o100),
		openEvent(self, "/etc/shadow", 0),
		openEvent(self, "/etc/hosts", 0),
		socketEvent(self, "connect", event.OpConnect, sockStream, "10.244.0.9:40000", "10.0.0.5:443", eInProgress),
		socketEvent(self, "connect", event.OpConnect, sockStream, "", "10.0.0.6:443", -111), // refused: nothing
		socketEvent(self, "listen", event.OpListen, sockStream, "0.0.0.0:8080", "", 0),
		socketEvent(self, "accept4", event.OpAccept, sockStream, "10.244.0.9:8080", "10.244.1.7:51000", 5),
		socketEvent(self, "bind", event.OpBind, sockDgram, "0.0.0.0:53", "", 0),
		{Kind: event.KindSyscall, Syscall: mountNR, PID: self, CgroupID: 10},
	} {
		h.handle(ev)
	}
	// The test binary was hashed in the background; wait for it.
	h.ids.Close()
	h.e.Flush()
	w, _ := workload.FromContainer(webPod, container.StateComplete)
	p := h.e.lookup(w.ID)
	if p == nil {
		t.Fatalf("no baseline for %s", w.ID)
	}
	var got []string
	for _, it := range p.view.Load().items() {
		got = append(got, it.Dim.String()+" "+it.String())
	}
	data, err := os.ReadFile(testBinary)
	if err != nil {
		t.Fatal(err)
	}
	wantID := fmt.Sprintf("sha256:%x", sha256.Sum256(data))
	for _, want := range []string{
		"executables /bin/sh",
		"executables /usr/bin/true (" + wantID + ")",
		"exec_edges /bin/sh -> /usr/bin/true",
		"files_written /var/log/app.log",
		"sensitive_reads /etc/shadow",
		"listening tcp/8080",
		"listening udp/53",
		"outbound 10.0.0.5/32 tcp/443",
		"inbound 10.244.1.7/32 tcp/8080",
		"syscalls mount",
		"syscalls execve",
		"capabilities CAP_SYS_ADMIN",
		"capabilities CAP_NET_BIND_SERVICE",
		"users 101",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("missing %q in %q", want, got)
		}
	}
	for _, unwanted := range []string{"sensitive_reads /etc/hosts", "outbound 10.0.0.6/32 tcp/443"} {
		if slices.Contains(got, unwanted) {
			t.Errorf("learned %q", unwanted)
		}
	}

	// In monitor, a new program raises one alert that names the process:
	// its edge from the parent is part of that departure, not another.
	if err := h.e.SetMode(w.ID, Monitor); err != nil {
		t.Fatal(err)
	}
	h.handle(execEvent(1<<30, 100, "/usr/bin/nc"))
	var drift []string
	for _, a := range h.sink.take() {
		drift = append(drift, a.Rule)
		if a.Rule == "Baseline drift: new executable" {
			if a.Context.Process.ExePath != "/usr/bin/nc" || a.Context.Identity.Namespace != "shop" ||
				a.OutputFields["proc.exepath"] != "/usr/bin/nc" || a.OutputFields["k8s.ns.name"] != "shop" {
				t.Errorf("alert context: %+v %v", a.Context, a.OutputFields)
			}
		}
	}
	if !slices.Equal(drift, []string{"Baseline drift: new executable"}) {
		t.Errorf("drift alerts for a new program: %q, want the new executable only", drift)
	}
	// A known program from a new parent is a departure of the edge.
	h.handle(execEvent(1<<30+1, 1<<30, "/bin/sh"))
	drift = drift[:0]
	for _, a := range h.sink.take() {
		drift = append(drift, a.Rule)
	}
	if !slices.Equal(drift, []string{"Baseline drift: new parent process"}) {
		t.Errorf("drift alerts for a known program from a new parent: %q", drift)
	}
	// A new connection raises its own alert only, even when its syscall
	// is new too.
	sendNR, _ := syscalls.Number("sendto")
	ev := socketEvent(self, "connect", event.OpConnect, sockStream, "", "10.0.0.7:25", 0)
	ev.Syscall = sendNR
	h.handle(ev)
	drift = drift[:0]
	for _, a := range h.sink.take() {
		drift = append(drift, a.Rule)
	}
	if !slices.Equal(drift, []string{"Baseline drift: new outbound connection"}) {
		t.Errorf("drift alerts for a new connection with a new syscall: %q", drift)
	}
	if s := h.obs.Stats(); s.Deferred != 1 || s.NoIdentity == 0 {
		t.Errorf("observer stats: %+v", s)
	}
}

func TestObserverKnownEventsDoNotAllocate(t *testing.T) {
	h := newObserveHarness(t)
	evs := []*event.Event{
		openEvent(7, "/var/log/app.log", oWronly),
		openEvent(7, "/usr/lib/libc.so.6", 0),
		socketEvent(7, "connect", event.OpConnect, sockStream, "", "10.0.0.5:443", 0),
	}
	h.table.Apply(execEvent(7, 1, "/usr/bin/app"))
	for _, ev := range evs {
		h.obs.Handle(0, ev)
	}
	h.e.Flush()
	for _, ev := range evs {
		if n := testing.AllocsPerRun(100, func() { h.obs.Handle(0, ev) }); n != 0 {
			t.Errorf("Handle(%v) allocates %v times", ev.Kind, n)
		}
	}
}
