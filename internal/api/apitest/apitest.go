// Package apitest builds a small node for the tests and benchmarks of
// the API and the console: pods and host programs whose kernel events go
// through the real event adapters of the connection map
// (flows.Observer) and of the baselines (baseline.Observer), with a real
// process table and workload resolver. Only the kernel is missing.
package apitest

import (
	"cmp"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/api"
	"github.com/vigilsec/vigil/internal/baseline"
	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/flows"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/syscalls"
	"github.com/vigilsec/vigil/internal/workload"
)

// Env is the node.
type Env struct {
	Flows     *flows.Aggregator
	Names     *flows.NameTable
	Baselines *baseline.Engine
	Table     *proc.Table
	Resolver  *workload.Resolver

	t        testing.TB // fails the test when a setup step fails
	procRoot string
	pods     *podTable
	flowObs  *flows.Observer
	baseObs  *baseline.Observer
	events   atomic.Uint64

	mu     sync.Mutex
	pids   map[uint32]bool
	labels map[string]map[string]string
	sink   func(*alert.Alert) bool
	extra  Extras
}

// Extras are the sources the node has no real implementation of here.
type Extras struct {
	Vulnerabilities []api.WorkloadFindings
}

// podTable answers cgroup ids with containers.
type podTable struct {
	mu sync.RWMutex
	m  map[uint64]*container.Info
}

func (p *podTable) Lookup(cg uint64) (*container.Info, container.State) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if i, ok := p.m[cg]; ok {
		return i, container.StateComplete
	}
	return container.Host, container.StateHost
}

// New returns an empty node. The baselines learn, and move to monitor
// only when told.
func New(t testing.TB) *Env {
	t.Helper()
	cfg := baseline.Default()
	cfg.Enabled = true
	cfg.ProtectAllowed = true
	cfg.DataDir = t.TempDir()
	cfg.Learning.AutoMonitor = false
	e := &Env{t: t, procRoot: t.TempDir(), pods: &podTable{m: map[uint64]*container.Info{}}, pids: map[uint32]bool{},
		labels: map[string]map[string]string{}}
	var err error
	e.Baselines, err = baseline.New(cfg, baseline.Options{Emit: e.emit, Hostname: "node-1"})
	if err != nil {
		t.Fatal(err)
	}
	e.Names = flows.NewNameTable(time.Hour, 0, nil)
	if e.Flows, err = flows.New(flows.Config{}, flows.Options{Names: e.Names}); err != nil {
		t.Fatal(err)
	}
	e.Table = proc.New()
	env := &fields.Env{Table: e.Table, Containers: e.pods, Hostname: "node-1"}
	e.Resolver = workload.NewResolver(workload.Config{Containers: e.pods, Processes: e.Table, ProcRoot: e.procRoot})
	e.flowObs = flows.NewObserver(flows.ObserverConfig{Aggregator: e.Flows, Workloads: e.Resolver, Env: env, Shards: 1})
	e.baseObs = baseline.NewObserver(baseline.ObserverConfig{Engine: e.Baselines, Workloads: e.Resolver, Env: env, Shards: 1})
	return e
}

func (e *Env) emit(a *alert.Alert) bool {
	e.mu.Lock()
	sink := e.sink
	e.mu.Unlock()
	if sink == nil {
		return false
	}
	return sink(a)
}

// SetSink sends the baselines' drift alerts to emit (the API server's
// Emit).
func (e *Env) SetSink(emit func(*alert.Alert) bool) {
	e.mu.Lock()
	e.sink = emit
	e.mu.Unlock()
}

// Pod registers a Kubernetes pod's container on cgroup cg, with the pod
// labels its Deployment's template gives, and returns its workload.
func (e *Env) Pod(cg uint64, ns, deployment, cname string, labels map[string]string) *workload.Workload {
	rs := deployment + "-7d9f8b6c5d"
	info := &container.Info{ID: strings.Repeat(strconv.FormatUint(cg%10, 10), 64), Name: cname,
		Image: container.Image{Name: "registry.example/" + deployment + ":1.0", Repository: "registry.example/" + deployment, Tag: "1.0"},
		Pod: &container.Pod{Name: rs + "-x2x4z", Namespace: ns, ContainerName: cname, FromAPI: true, Labels: labels,
			Owner: container.Owner{Deployment: deployment, ReplicaSet: rs}}}
	e.pods.mu.Lock()
	e.pods.m[cg] = info
	e.pods.mu.Unlock()
	w, _ := workload.FromContainer(info, container.StateComplete)
	e.mu.Lock()
	e.labels[w.ID] = labels
	e.mu.Unlock()
	return w
}

// HostUnit makes pid a host process of systemd unit unit.
func (e *Env) HostUnit(pid uint32, unit string) *workload.Workload {
	dir := filepath.Join(e.procRoot, strconv.FormatUint(uint64(pid), 10))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup"), []byte("0::/system.slice/"+unit+"\n"), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return workload.NewUnit(unit)
}

// Handle applies an event to the process table and hands it to both
// adapters, as the agent's pipeline does.
func (e *Env) Handle(ev *event.Event) {
	e.events.Add(1)
	e.Table.Apply(ev)
	e.flowObs.Handle(0, ev)
	e.baseObs.Handle(0, ev)
	if ev.Kind == event.KindExec && ev.Ret == 0 {
		e.mu.Lock()
		e.pids[ev.PID] = true
		e.mu.Unlock()
	}
}

func nr(name string) int32 {
	n, _ := syscalls.Number(name)
	return n
}

// Exec runs exe as pid, a child of ppid, in cgroup cg.
func (e *Env) Exec(pid, ppid uint32, cg uint64, exe string, args ...string) {
	argv := strings.Join(append([]string{exe}, args...), "\x00")
	e.Handle(&event.Event{Kind: event.KindExec, Syscall: nr("execve"), PID: pid, TID: pid, PPID: ppid, CgroupID: cg,
		Comm: filepath.Base(exe), Exec: event.Exec{Filename: exe, Exe: exe, Args: argv, EUID: 1000, UID: 1000, SID: ppid}})
}

func sock(pid uint32, cg uint64, name string, op event.SocketOp, typ uint16, local, remote string, ret int64) *event.Event {
	s := event.Socket{Op: op, FD: 3, Family: 2, Type: typ}
	if local != "" {
		s.Local = netip.MustParseAddrPort(local)
	}
	if remote != "" {
		s.Remote = netip.MustParseAddrPort(remote)
	}
	return &event.Event{Kind: event.KindSocket, Syscall: nr(name), PID: pid, TID: pid, CgroupID: cg, Ret: ret, Socket: s}
}

// Listen makes pid listen on addr ("0.0.0.0:8080") over TCP.
func (e *Env) Listen(pid uint32, cg uint64, addr string) {
	e.Handle(sock(pid, cg, "listen", event.OpListen, 1, addr, "", 0))
}

// BindUDP makes pid receive on addr over UDP.
func (e *Env) BindUDP(pid uint32, cg uint64, addr string) {
	e.Handle(sock(pid, cg, "bind", event.OpBind, 2, addr, "", 0))
}

// Connect is pid's TCP connect from local to remote.
func (e *Env) Connect(pid uint32, cg uint64, local, remote string) {
	e.Handle(sock(pid, cg, "connect", event.OpConnect, 1, local, remote, 0))
}

// Accept is pid's accept of a connection from remote to local.
func (e *Env) Accept(pid uint32, cg uint64, local, remote string) {
	e.Handle(sock(pid, cg, "accept4", event.OpAccept, 1, local, remote, 4))
}

// SendUDP is pid's UDP sendto from local to remote, on a connected socket.
func (e *Env) SendUDP(pid uint32, cg uint64, local, remote string) {
	e.Handle(sock(pid, cg, "connect", event.OpConnect, 2, local, remote, 0))
}

// Labels implements api.Labels.
func (e *Env) Labels(w *workload.Workload) (map[string]string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l, ok := e.labels[w.ID]
	return l, ok
}

// Processes implements api.Processes from the process table.
func (e *Env) Processes(id string) []api.Process {
	e.mu.Lock()
	pids := make([]uint32, 0, len(e.pids))
	for p := range e.pids {
		pids = append(pids, p)
	}
	e.mu.Unlock()
	var out []api.Process
	for _, pid := range pids {
		p, ok := e.Table.Get(pid)
		if !ok || p.Image == nil {
			continue
		}
		w, ok := e.Resolver.Resolve(p.CgroupID, pid)
		if !ok || w.ID != id {
			continue
		}
		ci, _ := e.pods.Lookup(p.CgroupID)
		cid := ""
		if ci != container.Host {
			cid = ci.ID[:12]
		}
		out = append(out, api.Process{PID: pid, PPID: p.PPID, Comm: p.Comm, Exe: p.Exe,
			Cmdline: strings.ReplaceAll(p.Args, "\x00", " "), UID: p.EUID, User: "uid " + strconv.Itoa(int(p.EUID)), ContainerID: cid})
	}
	slices.SortFunc(out, func(a, b api.Process) int { return cmp.Compare(a.PID, b.PID) })
	return out
}

// AgentStats implements api.Stats: every handled event counts.
func (e *Env) AgentStats() api.AgentStats { return api.AgentStats{Events: e.events.Load()} }

// SetExtras sets the vulnerability findings.
func (e *Env) SetExtras(x Extras) {
	e.mu.Lock()
	e.extra = x
	e.mu.Unlock()
}

// Vulnerabilities implements api.Vulnerabilities.
func (e *Env) Vulnerabilities() []api.WorkloadFindings {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.extra.Vulnerabilities
}

// NewServer returns an API server reading the node, with the node's
// drift alerts going to it. A zero cfg.DataDir is a temporary directory.
func (e *Env) NewServer(t testing.TB, cfg api.Config, opts api.Options) *api.Server {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	s, err := api.New(cfg, e.Sources(), opts)
	if err != nil {
		t.Fatal(err)
	}
	e.SetSink(s.Emit)
	return s
}

// Sources returns the node as the API server's sources.
func (e *Env) Sources() api.Sources {
	return api.Sources{Flows: e.Flows, Baselines: e.Baselines, Processes: e, Labels: e, Vulnerabilities: e,
		Enforcement: enforcementState{}, Stats: e}
}
