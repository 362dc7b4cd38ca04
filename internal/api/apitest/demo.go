package apitest

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/api"
	"github.com/vigilsec/vigil/internal/baseline"
	"github.com/vigilsec/vigil/internal/enforce"
	"github.com/vigilsec/vigil/internal/sbom"
	"github.com/vigilsec/vigil/internal/vulndb"
	"github.com/vigilsec/vigil/internal/vulnrank"
	"github.com/vigilsec/vigil/internal/workload"
)

// The basic pair: a client pod calls a server pod, which also listens on
// a port nobody uses.
const (
	// ClientCG is the client pod's cgroup id.
	ClientCG = 10
	// ServerCG is the server pod's cgroup id.
	ServerCG = 20
	// ClientPID is the client's process id.
	ClientPID = 100
	// ServerPID is the server's process id.
	ServerPID = 200
	// ClientIP is the client pod's address.
	ClientIP = "10.244.0.5"
	// ServerIP is the server pod's address.
	ServerIP = "10.244.0.9"
)

// Pair holds the workloads Basic creates.
type Pair struct {
	Client, Server *workload.Workload
}

// Basic feeds the client/server pair: the server listens on 8080 and
// 9090, the client connects to 8080 three times, both ends seen; the
// client's baseline has learned that and is put in monitor mode.
func (e *Env) Basic() Pair {
	p := Pair{
		Client: e.Pod(ClientCG, "shop", "frontend", "web", map[string]string{"app": "frontend", "pod-template-hash": "7d9f8b6c5d"}),
		Server: e.Pod(ServerCG, "shop", "api", "app", map[string]string{"app": "api", "tier": "backend"}),
	}
	e.Exec(90, 1, ClientCG, "/usr/bin/containerd-shim-runc-v2")
	e.Exec(95, 90, ClientCG, "/bin/sh", "-c", "web --port 80")
	e.Exec(ClientPID, 95, ClientCG, "/usr/local/bin/web", "--port", "80")
	e.Exec(ServerPID, 1, ServerCG, "/usr/local/bin/api", "--listen", ":8080")
	e.Listen(ServerPID, ServerCG, "0.0.0.0:8080")
	e.Listen(ServerPID, ServerCG, "0.0.0.0:9090")
	for i := range 3 {
		cli := fmt.Sprintf("%s:%d", ClientIP, 40000+i)
		e.Connect(ClientPID, ClientCG, cli, ServerIP+":8080")
		e.Accept(ServerPID, ServerCG, ServerIP+":8080", cli)
	}
	e.Baselines.Flush()
	e.setMode(p.Client.ID, baseline.Monitor)
	return p
}

// Demo adds to Basic what a small cluster node shows: the cluster DNS,
// an outside API the client calls by name, the kubelet probing the
// server, and a drift: the client connecting somewhere new.
func (e *Env) Demo() Pair {
	p := e.Basic()
	e.Pod(40, "kube-system", "coredns", "coredns", map[string]string{"k8s-app": "kube-dns"})
	e.Exec(400, 1, 40, "/coredns", "-conf", "/etc/coredns/Corefile")
	e.BindUDP(400, 40, "0.0.0.0:53")
	e.Listen(400, 40, "0.0.0.0:9153")
	e.Names.SetService(netip.MustParseAddr("10.96.0.10"), "kube-system", "kube-dns")
	e.Names.AddAnswer(p.Client.ID, "payments.example.com", []netip.Addr{netip.MustParseAddr("93.184.216.34")}, time.Minute)

	e.HostUnit(300, "kubelet.service")
	e.Exec(300, 1, 0, "/usr/bin/kubelet")
	e.Listen(300, 0, "127.0.0.1:10248")
	e.Connect(300, 0, "10.244.0.1:51000", ServerIP+":8080")
	e.Accept(ServerPID, ServerCG, ServerIP+":8080", "10.244.0.1:51000")

	e.setMode(p.Client.ID, baseline.Learn)
	e.SendUDP(ClientPID, ClientCG, ClientIP+":41000", "10.96.0.10:53")
	e.Connect(ClientPID, ClientCG, ClientIP+":41001", "93.184.216.34:443")
	e.Baselines.Flush()
	e.setMode(p.Client.ID, baseline.Monitor)
	// Past the baseline: a drift alert, and an edge outside it.
	e.Connect(ClientPID, ClientCG, ClientIP+":41002", "203.0.113.50:4444")
	e.SetExtras(Extras{Vulnerabilities: []api.WorkloadFindings{{Workload: p.Server.ID, Scanned: time.Now(),
		Findings: sampleFindings()}}})
	return p
}

// Synthetic adds nw workloads in 20 namespaces and about n flows among
// them and to the outside, through the event path.
func (e *Env) Synthetic(nw, n int) {
	ws := make([]uint64, nw)
	ip := func(i int) string { return fmt.Sprintf("10.%d.%d.%d", 100+i/62500, i/250%250, i%250+1) }
	for i := range ws {
		cg := uint64(1000 + i)
		ws[i] = cg
		e.Pod(cg, fmt.Sprintf("team-%02d", i%20), fmt.Sprintf("svc-%03d", i), "app", map[string]string{"app": fmt.Sprintf("svc-%03d", i)})
		pid := uint32(10000 + i)
		e.Exec(pid, 1, cg, "/usr/local/bin/svc")
		e.Listen(pid, cg, "0.0.0.0:8080")
	}
	for k := 0; k < n; k++ {
		i := k % nw
		j := k / nw
		pid := uint32(10000 + i)
		local := fmt.Sprintf("%s:%d", ip(i), 30000+j%30000)
		if j%5 == 4 {
			e.Connect(pid, ws[i], local, fmt.Sprintf("198.51.%d.%d:443", j%250, i%250+1))
			continue
		}
		e.Connect(pid, ws[i], local, fmt.Sprintf("%s:%d", ip((i+j+1)%nw), 8080+j%7))
	}
}

// Alert is a rule alert about the client process, as the detector
// writes them.
func Alert(rule, priority, output string) *alert.Alert {
	return &alert.Alert{Time: time.Now().UTC(), Rule: rule, Priority: priority, Source: "syscall", Hostname: "node-1",
		Output: output, Tags: []string{"test"},
		OutputFields: map[string]any{"proc.name": "web", "k8s.ns.name": "shop", "baseline.workload": "k8s/shop/deployment/frontend/web"},
		Context: alert.Context{
			Process:  alert.Process{PID: ClientPID, PPID: 95, ExePath: "/usr/local/bin/web", Cmdline: "web --port 80", Ancestors: []string{"sh", "containerd-shim"}},
			Identity: alert.Identity{User: "app", UID: 1000, ContainerID: "000000000000", ContainerName: "web", Namespace: "shop", Pod: "frontend-7d9f8b6c5d-x2x4z"},
		}}
}

func sampleFindings() []vulnrank.Ranked {
	return []vulnrank.Ranked{
		{Score: 14.2, Base: 9.8, Use: vulnrank.UseLoaded,
			Finding: vulndb.Finding{IDs: []string{"CVE-2026-1001"}, Summary: "Heap overflow in the HTTP/2 decoder",
				Severity: "CRITICAL", CVSS: 9.8, FixedVersion: "1.4.2", Package: vulndb.Query{Name: "libnghttp2", Version: "1.4.0"}},
			Package:   vulnrank.PackageRef{Name: "libnghttp2", Version: "1.4.0", Type: string(sbom.TypeDeb)},
			Processes: []vulnrank.ProcessRef{{PID: ServerPID, Comm: "api", How: vulnrank.UseLoaded, File: "/usr/lib/libnghttp2.so.14", Listeners: []string{"0.0.0.0:8080/tcp"}}},
			Reasons:   []string{"base 9.8 (CVSS 9.8)", "x1.5: loaded by api (pid 200), which listens on 0.0.0.0:8080", "x1.1: fixed in 1.4.2"}},
		{Score: 1.4, Base: 5.5, Use: vulnrank.UseUnused,
			Finding: vulndb.Finding{IDs: []string{"CVE-2025-2002"}, Summary: "Out-of-bounds read in inflate",
				Severity: "MEDIUM", Package: vulndb.Query{Name: "zlib", Version: "1.2.13"}},
			Package: vulnrank.PackageRef{Name: "zlib", Version: "1.2.13", Type: string(sbom.TypeDeb)},
			Reasons: []string{"base 5.5 (MEDIUM)", "x0.25: no running process uses it"}},
	}
}

// enforcementState is a node with one blocking rule and one in audit.
type enforcementState struct{}

func (enforcementState) Enforcement() enforce.Status {
	return enforce.Status{
		Rules: []enforce.RuleStatus{
			{Name: "Block connections to mining pools", Action: "block", Mode: "enforce", Pre: "cgroup-sock-addr", Post: "pidfd"},
			{Name: "Kill reverse shells", Action: "kill", Mode: "audit", Post: "bpf-send-signal"},
		},
		Mechanisms: []enforce.MechanismStatus{
			{Name: "cgroup-sock-addr", Available: true, Active: true},
			{Name: "fanotify", Available: true, Active: false},
			{Name: "bpf-send-signal", Available: true, Active: true},
		},
	}
}

// setMode puts workload id in mode m, failing the test if it cannot.
func (e *Env) setMode(id string, m baseline.Mode) {
	e.t.Helper()
	if err := e.Baselines.SetMode(id, m); err != nil {
		e.t.Fatal(err)
	}
}
