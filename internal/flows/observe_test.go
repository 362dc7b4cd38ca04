package flows

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/syscalls"
	"github.com/vigilsec/vigil/internal/workload"
)

// pods answers cgroup 10 with the client's container and 20 with the
// server's.
type pods map[uint64]*container.Info

func (p pods) Lookup(cg uint64) (*container.Info, container.State) {
	if i, ok := p[cg]; ok {
		return i, container.StateComplete
	}
	return container.Host, container.StateHost
}

func podInfo(name, owner, cname string) *container.Info {
	return &container.Info{ID: strings.Repeat(cname[:1], 64), Name: cname, Pod: &container.Pod{
		Name: name, Namespace: "shop", ContainerName: cname, FromAPI: true,
		Owner: container.Owner{Deployment: owner, ReplicaSet: owner + "-7d9f8b6c5d"}}}
}

var testPods = pods{
	10: podInfo("frontend-7d9f8b6c5d-x2x4z", "frontend", "web"),
	20: podInfo("api-7d9f8b6c5d-b7k2p", "api", "app"),
}

type observeHarness struct {
	agg   *Aggregator
	obs   *Observer
	table *proc.Table
}

func newObserveHarness(t testing.TB) *observeHarness {
	agg, _ := newAgg(t, Config{}, nil)
	table := proc.New()
	env := &fields.Env{Table: table, Containers: testPods}
	res := workload.NewResolver(workload.Config{Containers: testPods, Processes: table})
	return &observeHarness{agg: agg, table: table,
		obs: NewObserver(ObserverConfig{Aggregator: agg, Workloads: res, Env: env, Shards: 2})}
}

func (h *observeHarness) handle(ev *event.Event) {
	h.table.Apply(ev)
	h.obs.Handle(0, ev)
}

func nr(name string) int32 {
	n, _ := syscalls.Number(name)
	return n
}

func execEv(pid uint32, cg uint64, exe string) *event.Event {
	return &event.Event{Kind: event.KindExec, Syscall: nr("execve"), PID: pid, TID: pid, PPID: 1, CgroupID: cg,
		Comm: exe[strings.LastIndexByte(exe, '/')+1:], Exec: event.Exec{Filename: exe, Exe: exe, Args: exe}}
}

func sockEv(pid uint32, cg uint64, name string, op event.SocketOp, typ uint16, fd int32, local, remote string, ret int64) *event.Event {
	s := event.Socket{Op: op, FD: fd, Family: afInet, Type: typ}
	if local != "" {
		s.Local = netip.MustParseAddrPort(local)
	}
	if remote != "" {
		s.Remote = netip.MustParseAddrPort(remote)
	}
	return &event.Event{Kind: event.KindSocket, Syscall: nr(name), PID: pid, TID: pid, CgroupID: cg, Ret: ret, Socket: s}
}

func sockaddr4(addr string) string {
	a := netip.MustParseAddrPort(addr)
	b := make([]byte, 16)
	binary.LittleEndian.PutUint16(b, afInet)
	binary.BigEndian.PutUint16(b[2:], a.Port())
	ip := a.Addr().As4()
	copy(b[4:], ip[:])
	return string(b)
}

func sendtoEv(pid uint32, cg uint64, fd int32, dest string, flags uint64) *event.Event {
	ev := &event.Event{Kind: event.KindSyscall, Syscall: nr("sendto"), PID: pid, TID: pid, CgroupID: cg, Ret: 12}
	ev.Sys.Args = [6]uint64{uint64(fd), 0, 12, flags, 0, 16}
	if dest != "" {
		ev.Sys.Slots[0] = event.Slot{Index: 4, Type: event.SlotType(syscalls.SlotSockaddr), Value: sockaddr4(dest)}
	}
	return ev
}

// TestObserverEvents drives the adapter with the events a client and a
// server pod produce: the map holds the TCP connection from both ends,
// the UDP datagrams (by address, and on a connected socket), a failed
// connect, and the listening sockets; TCP sends, polled connects and a
// recvfrom without the sender's address add nothing, and the server's
// exit takes its listeners with it.
func TestObserverEvents(t *testing.T) {
	h := newObserveHarness(t)
	const cli, srv = 100, 200
	h.handle(execEv(cli, 10, "/usr/bin/web"))
	h.handle(execEv(srv, 20, "/usr/bin/api"))
	for _, ev := range []*event.Event{
		sockEv(srv, 20, "listen", event.OpListen, sockStream, 3, "0.0.0.0:8080", "", 0),
		sockEv(srv, 20, "bind", event.OpBind, sockDgram, 4, "0.0.0.0:5353", "", 0),
		sockEv(srv, 20, "bind", event.OpBind, sockStream, 5, "0.0.0.0:9999", "", 0), // TCP bind: not yet listening
		sockEv(cli, 10, "connect", event.OpConnect, sockStream, 3, "10.244.0.5:40000", "10.244.0.9:8080", eInProgress),
		sockEv(cli, 10, "connect", event.OpConnect, sockStream, 3, "10.244.0.5:40000", "10.244.0.9:8080", eAlready),
		sockEv(srv, 20, "accept4", event.OpAccept, sockStream, 3, "10.244.0.9:8080", "10.244.0.5:40000", 6),
		sockEv(cli, 10, "connect", event.OpConnect, sockStream, 4, "10.244.0.5:40001", "10.244.0.9:8081", -111),
		sendtoEv(cli, 10, 3, "", 0),                // send() on the TCP socket
		sendtoEv(cli, 10, 9, "10.244.0.9:5353", 0), // unknown fd with an address: a datagram
		sockEv(cli, 10, "connect", event.OpConnect, sockDgram, 5, "10.244.0.5:40002", "10.96.0.10:53", 0),
		sendtoEv(cli, 10, 5, "", 0), // on the connected UDP socket
		{Kind: event.KindSyscall, Syscall: nr("recvfrom"), PID: srv, CgroupID: 20, Ret: 12},
	} {
		h.handle(ev)
	}
	s := h.agg.Snapshot()
	c, sv := "k8s/shop/deployment/frontend/web", "k8s/shop/deployment/api/app"
	sameLines(t, flowsOf(s), []string{
		c + " -> " + sv + " 5353/udp outbound x1",
		c + " -> " + sv + " 8080/tcp outbound x1",
		c + " -> " + sv + " 8080/tcp inbound x1",
		c + " -> " + sv + " 8081/tcp outbound x1",
		c + " -> net:10.96.0.0/24 53/udp outbound x2",
	})
	for _, f := range s.Flows {
		if f.Port == 8081 && f.Failed != 1 {
			t.Errorf("refused connect: failed=%d", f.Failed)
		}
	}
	var ls []string
	for _, l := range s.Listeners {
		ls = append(ls, l.Addr.String()+"/"+l.Proto.String()+" "+l.Process)
	}
	if strings.Join(ls, ",") != "0.0.0.0:5353/udp api,0.0.0.0:8080/tcp api" {
		t.Errorf("listeners %q", ls)
	}
	h.handle(&event.Event{Kind: event.KindExit, Syscall: -1, PID: srv, TID: srv})
	if n := len(h.agg.Node().Listeners()); n != 0 {
		t.Errorf("%d listeners after the server exited", n)
	}
}

// TestObserverUnattributed: an event whose workload cannot be named is
// counted and left out.
func TestObserverUnattributed(t *testing.T) {
	h := newObserveHarness(t)
	h.handle(sockEv(4242, 0, "connect", event.OpConnect, sockStream, 3, "10.0.0.1:1", "10.0.0.2:80", 0))
	if h.obs.Unattributed() != 1 || h.agg.Stats().Flows != 0 {
		t.Errorf("unattributed %d flows %d", h.obs.Unattributed(), h.agg.Stats().Flows)
	}
}

// TestKnownFlowsDoNotAllocate: the event path for a flow the map holds.
func TestKnownFlowsDoNotAllocate(t *testing.T) {
	h := newObserveHarness(t)
	h.handle(execEv(100, 10, "/usr/bin/web"))
	evs := []*event.Event{
		sockEv(100, 10, "connect", event.OpConnect, sockStream, 3, "10.244.0.5:40000", "10.244.0.9:8080", 0),
		sockEv(100, 10, "accept", event.OpAccept, sockStream, 3, "10.244.0.5:80", "10.244.0.7:5000", 4),
		sendtoEv(100, 10, 9, "10.96.0.10:53", 0),
		sendtoEv(100, 10, 3, "", 0),
	}
	for _, ev := range evs {
		h.handle(ev)
	}
	for _, ev := range evs {
		if n := testing.AllocsPerRun(100, func() { h.obs.Handle(0, ev) }); n != 0 {
			t.Errorf("Handle(%v %d) allocates %v times", ev.Kind, ev.Syscall, n)
		}
	}
	o := out(client, "10.244.0.5:1", "10.0.0.1:80", TCP)
	h.agg.Observe(o)
	if n := testing.AllocsPerRun(100, func() { h.agg.Observe(o) }); n != 0 {
		t.Errorf("Observe allocates %v times", n)
	}
}

func TestParseSockaddr(t *testing.T) {
	v6 := make([]byte, 28)
	binary.LittleEndian.PutUint16(v6, afInet6)
	binary.BigEndian.PutUint16(v6[2:], 443)
	copy(v6[8:], netip.MustParseAddr("2001:db8::1").AsSlice())
	for _, c := range []struct {
		in   string
		want string
	}{
		{sockaddr4("10.1.2.3:53"), "10.1.2.3:53"},
		{string(v6), "[2001:db8::1]:443"},
		{sockaddr4("10.1.2.3:53")[:7], ""},
		{"\x01\x00/tmp/sock", ""},
		{"", ""},
	} {
		got, ok := parseSockaddr(c.in)
		if (c.want == "") == ok || (ok && got.String() != c.want) {
			t.Errorf("parseSockaddr(%q) = %v %v, want %q", c.in, got, ok, c.want)
		}
	}
}
