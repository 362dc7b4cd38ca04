package sockguard

import (
	"net"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/vigilsec/vigil/internal/ktime"
)

func tcp4(ip string, port int) string { return "tcp4 " + ip + " " + strconv.Itoa(port) }
func tcp6(ip string, port int) string { return "tcp6 " + ip + " " + strconv.Itoa(port) }
func udp4(ip string, port int) string { return "udp4 " + ip + " " + strconv.Itoa(port) }

// TestBlockConnectInCgroup: a Block rule scoped to one cgroup refuses its
// connect with EPERM before a SYN is sent, reports it with every field, and
// touches nothing else: other ports, other cgroups, the agent itself.
func TestBlockConnectInCgroup(t *testing.T) {
	h := openGuard(t, Config{})
	cgDir, cg := newCgroup(t)
	blocked := listen(t, "tcp4", "127.0.0.1:0")
	other := listen(t, "tcp4", "127.0.0.1:0")
	h.apply(t, Rule{ID: 7, Scope: Cgroup(cg), Prefix: netip.MustParsePrefix("127.0.0.1/32"),
		Port: uint16(blocked.Port), Proto: ProtoTCP, Verdict: Block})

	before := h.g.Stats()
	t0 := ktime.Now()
	p := startHelper(t, cgDir, tcp4("127.0.0.1", blocked.Port))
	if got := p.run(t); got != "EPERM" {
		t.Fatalf("connect in the scoped cgroup: %s, want EPERM", got)
	}
	t1 := ktime.Now()
	blocked.firstIsMarker(t)

	d := h.decision(t, cg)
	if d.Time < t0 || d.Time > t1 {
		t.Errorf("decision time %d outside the attempt [%d, %d]", d.Time, t0, t1)
	}
	want := Decision{Time: d.Time, PID: uint32(p.TID), TGID: uint32(p.PID), UID: nobody, Comm: helperComm,
		CgroupID: cg, Hook: HookConnect4, Proto: ProtoTCP,
		Dst: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(blocked.Port)), RuleID: 7, Verdict: Block}
	if d != want {
		t.Errorf("decision\n got %+v\nwant %+v", d, want)
	}
	if p.TID != p.PID {
		t.Errorf("helper connected from thread %d of %d; the record's PID check needs the main thread", p.TID, p.PID)
	}

	if got := attempt(t, cgDir, tcp4("127.0.0.1", other.Port)); got != "ok" {
		t.Errorf("connect to another port from the scoped cgroup: %s, want ok", got)
	}
	other.acceptOne(t)
	if got := attempt(t, nil, tcp4("127.0.0.1", blocked.Port)); got != "ok" {
		t.Errorf("connect from the test's cgroup: %s, want ok", got)
	}
	blocked.acceptOne(t)
	c, err := net.Dial("tcp4", blocked.Addr().String())
	if err != nil {
		t.Errorf("the agent's own connect: %v", err)
	} else {
		_ = c.Close() // the connect was the test
		blocked.acceptOne(t)
	}
	h.noDecision(t, cg)

	st := h.g.Stats()
	if st.Blocked-before.Blocked != 1 || st.Audited != before.Audited {
		t.Errorf("stats went from %+v to %+v, want exactly one more blocked", before, st)
	}
	if st.Exempt <= before.Exempt || st.Allowed < before.Allowed+2 || st.Checks < before.Checks+4 {
		t.Errorf("stats went from %+v to %+v, want the agent exempt and two more allowed", before, st)
	}
	if st.Received != 1 || st.DecodeErrors != 0 || st.RingDrops != 0 {
		t.Errorf("reader stats %+v, want one record received and nothing lost", st)
	}
}

// TestIPv6AndMapped: IPv6 destinations match IPv6 rules, and an
// IPv4-mapped destination on an IPv6 socket matches IPv4 rules.
func TestIPv6AndMapped(t *testing.T) {
	h := openGuard(t, Config{})
	cgDir, cg := newCgroup(t)
	l6 := listen(t, "tcp6", "[::1]:0")
	l4 := listen(t, "tcp4", "127.0.0.1:0")
	h.apply(t,
		Rule{ID: 61, Scope: Cgroup(cg), Prefix: netip.MustParsePrefix("::1/128"), Port: uint16(l6.Port), Verdict: Block},
		Rule{ID: 41, Scope: Cgroup(cg), Prefix: netip.MustParsePrefix("127.0.0.0/8"), Port: uint16(l4.Port), Verdict: Block},
	)

	if got := attempt(t, cgDir, tcp6("::1", l6.Port)); got != "EPERM" {
		t.Fatalf("connect to [::1]: %s, want EPERM", got)
	}
	l6.firstIsMarker(t)
	d := h.decision(t, cg)
	if d.Hook != HookConnect6 || d.Dst != netip.AddrPortFrom(netip.IPv6Loopback(), uint16(l6.Port)) ||
		d.RuleID != 61 || d.Proto != ProtoTCP || d.Verdict != Block {
		t.Errorf("IPv6 decision %+v", d)
	}

	mapped := netip.MustParseAddr("::ffff:127.0.0.1")
	if got := attempt(t, cgDir, tcp6(mapped.String(), l4.Port)); got != "EPERM" {
		t.Fatalf("connect to [::ffff:127.0.0.1] on an IPv6 socket: %s, want EPERM", got)
	}
	l4.firstIsMarker(t)
	d = h.decision(t, cg)
	if d.Hook != HookConnect6 || d.Dst != netip.AddrPortFrom(mapped, uint16(l4.Port)) || d.RuleID != 41 {
		t.Errorf("IPv4-mapped decision %+v", d)
	}
	// The IPv6 rule is for ::1 only: the IPv4 listener's port over IPv6
	// loopback has no rule.
	if got := attempt(t, cgDir, tcp4("127.0.0.1", l6.Port)); got != "ECONNREFUSED" {
		t.Errorf("IPv4 connect to the IPv6 rule's port: %s, want ECONNREFUSED (no listener, not blocked)", got)
	}
}

// TestPrefixWithAllowedHole: Allow on one address beats Block on its
// network, because the longer prefix wins.
func TestPrefixWithAllowedHole(t *testing.T) {
	h := openGuard(t, Config{})
	cgDir, cg := newCgroup(t)
	l1 := listen(t, "tcp4", "127.0.0.1:0")
	l2 := listen(t, "tcp4", "127.0.0.2:0")
	h.apply(t,
		Rule{ID: 1, Scope: Cgroup(cg), Prefix: netip.MustParsePrefix("127.0.0.0/8"), Verdict: Block},
		Rule{ID: 2, Scope: Cgroup(cg), Prefix: netip.MustParsePrefix("127.0.0.2/32"), Verdict: Allow},
	)
	if got := attempt(t, cgDir, tcp4("127.0.0.2", l2.Port)); got != "ok" {
		t.Errorf("connect to the allowed 127.0.0.2: %s, want ok", got)
	}
	l2.acceptOne(t)
	if got := attempt(t, cgDir, tcp4("127.0.0.1", l1.Port)); got != "EPERM" {
		t.Errorf("connect to 127.0.0.1 in the blocked /8: %s, want EPERM", got)
	}
	l1.firstIsMarker(t)
	if d := h.decision(t, cg); d.RuleID != 1 || d.Verdict != Block {
		t.Errorf("decision %+v, want rule 1 block", d)
	}
	h.noDecision(t, cg) // Allow is silent
}

// TestAuditLetsThrough: Audit reports but does not refuse.
func TestAuditLetsThrough(t *testing.T) {
	h := openGuard(t, Config{})
	cgDir, cg := newCgroup(t)
	l := listen(t, "tcp4", "127.0.0.1:0")
	h.apply(t, Rule{ID: 9, Scope: Cgroup(cg), Port: uint16(l.Port), Proto: ProtoTCP, Verdict: Audit})
	before := h.g.Stats()
	if got := attempt(t, cgDir, tcp4("127.0.0.1", l.Port)); got != "ok" {
		t.Fatalf("audited connect: %s, want ok", got)
	}
	l.acceptOne(t)
	d := h.decision(t, cg)
	if d.Verdict != Audit || d.RuleID != 9 || d.Hook != HookConnect4 || d.Comm != helperComm {
		t.Errorf("decision %+v, want rule 9 audit", d)
	}
	if st := h.g.Stats(); st.Audited != before.Audited+1 || st.Blocked != before.Blocked {
		t.Errorf("stats went from %+v to %+v, want one more audited", before, st)
	}
}

// TestUDPSendtoBlocked: sendmsg4 refuses an unconnected UDP sendto; a TCP
// rule on the same port does not touch UDP.
func TestUDPSendtoBlocked(t *testing.T) {
	h := openGuard(t, Config{})
	cgDir, cg := newCgroup(t)
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	port := pc.LocalAddr().(*net.UDPAddr).Port
	h.apply(t, Rule{ID: 17, Scope: Cgroup(cg), Port: uint16(port), Proto: ProtoTCP, Verdict: Block})
	if got := attempt(t, cgDir, udp4("127.0.0.1", port)); got != "ok" {
		t.Fatalf("sendto under a TCP-only rule: %s, want ok", got)
	}
	readDatagram(t, pc, "helper")

	h.apply(t, Rule{ID: 18, Scope: Cgroup(cg), Port: uint16(port), Proto: ProtoUDP, Verdict: Block})
	if got := attempt(t, cgDir, udp4("127.0.0.1", port)); got != "EPERM" {
		t.Fatalf("sendto under a UDP rule: %s, want EPERM", got)
	}
	// Datagrams queue in order: the marker must come first.
	c, err := net.Dial("udp4", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("marker")); err != nil {
		t.Fatal(err)
	}
	_ = c.Close() // a datagram socket: nothing left to send
	readDatagram(t, pc, "marker")
	d := h.decision(t, cg)
	if d.Hook != HookSendmsg4 || d.Proto != ProtoUDP || d.RuleID != 18 ||
		d.Dst != netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)) {
		t.Errorf("decision %+v, want sendmsg4 udp rule 18", d)
	}
	// An IPv6 socket sending to the mapped address: the kernel hands the
	// datagram to its IPv4 path, whose hook refuses it.
	if got := attempt(t, cgDir, "udp6 ::ffff:127.0.0.1 "+strconv.Itoa(port)); got != "EPERM" {
		t.Fatalf("sendto [::ffff:127.0.0.1] under a UDP rule: %s, want EPERM", got)
	}
	if d := h.decision(t, cg); d.RuleID != 18 || d.Proto != ProtoUDP || d.Hook != HookSendmsg4 ||
		d.Dst != netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)) {
		t.Errorf("mapped sendto decision %+v, want sendmsg4 rule 18 to 127.0.0.1", d)
	}
}

func readDatagram(t *testing.T, pc net.PacketConn, want string) {
	t.Helper()
	if err := pc.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatalf("read datagram: %v", err)
	}
	if string(buf[:n]) != want {
		t.Errorf("first datagram %q, want %q", buf[:n], want)
	}
}

// TestProtectedNeverBlocked: a protected process passes a Block rule
// silently; once unprotected, it is blocked again.
func TestProtectedNeverBlocked(t *testing.T) {
	h := openGuard(t, Config{})
	cgDir, cg := newCgroup(t)
	l := listen(t, "tcp4", "127.0.0.1:0")
	h.apply(t, Rule{ID: 3, Scope: Cgroup(cg), Verdict: Block})

	p := startHelper(t, cgDir, tcp4("127.0.0.1", l.Port))
	if err := h.g.Protect(uint32(p.PID)); err != nil {
		t.Fatal(err)
	}
	if got := p.run(t); got != "ok" {
		t.Errorf("protected process: %s, want ok", got)
	}
	l.acceptOne(t)
	h.noDecision(t, cg)

	if err := h.g.Unprotect(uint32(p.PID)); err != nil {
		t.Fatal(err)
	}
	if got := attempt(t, cgDir, tcp4("127.0.0.1", l.Port)); got != "EPERM" {
		t.Errorf("after Unprotect: %s, want EPERM", got)
	}
	if err := h.g.Unprotect(uint32(os.Getpid())); err == nil {
		t.Error("Unprotect of the agent's own process succeeded")
	}
	if st := h.g.Status(); st.Protected != 1 {
		t.Errorf("status %+v, want only the agent protected", st)
	}
}

// TestApplyReplaces: a new policy takes over whole; the old rules stop
// matching.
func TestApplyReplaces(t *testing.T) {
	h := openGuard(t, Config{})
	cgDir, cg := newCgroup(t)
	a := listen(t, "tcp4", "127.0.0.1:0")
	b := listen(t, "tcp4", "127.0.0.1:0")
	h.apply(t, Rule{ID: 1, Scope: Cgroup(cg), Port: uint16(a.Port), Verdict: Block})
	if got := attempt(t, cgDir, tcp4("127.0.0.1", a.Port)); got != "EPERM" {
		t.Fatalf("first policy, port a: %s, want EPERM", got)
	}
	h.apply(t, Rule{ID: 2, Scope: Cgroup(cg), Port: uint16(b.Port), Verdict: Block},
		Rule{ID: 2, Scope: Cgroup(cg), Port: uint16(b.Port) + 1, Verdict: Block})
	if got := attempt(t, cgDir, tcp4("127.0.0.1", a.Port)); got != "ok" {
		t.Errorf("second policy, port a: %s, want ok", got)
	}
	a.acceptOne(t)
	if got := attempt(t, cgDir, tcp4("127.0.0.1", b.Port)); got != "EPERM" {
		t.Errorf("second policy, port b: %s, want EPERM", got)
	}
	if st := h.g.Status(); st.Rules != 2 || st.Entries != 4 {
		t.Errorf("status %+v, want 2 rules in 4 entries", st)
	}
	// A rejected policy leaves the current one in force.
	if err := h.g.Apply([]Rule{{ID: 5, Scope: Host()}}); err == nil {
		t.Fatal("Apply accepted a rule without a verdict")
	}
	if got := attempt(t, cgDir, tcp4("127.0.0.1", b.Port)); got != "EPERM" {
		t.Errorf("after a rejected Apply, port b: %s, want EPERM", got)
	}
	h.apply(t)
	if got := attempt(t, cgDir, tcp4("127.0.0.1", b.Port)); got != "ok" {
		t.Errorf("empty policy: %s, want ok", got)
	}
	b.acceptOne(t)
}

// TestScopesAndDefaults: a default Block with an Allow makes an
// allow-list; a cgroup rule beats an all-containers one; host rules do not
// reach registered containers.
func TestScopesAndDefaults(t *testing.T) {
	h := openGuard(t, Config{})
	cgDir, cg := newCgroup(t)
	a := listen(t, "tcp4", "127.0.0.1:0")
	b := listen(t, "tcp4", "127.0.0.1:0")
	if err := h.g.SetContainer(cg, true); err != nil {
		t.Fatal(err)
	}
	h.apply(t,
		Rule{ID: 100, Scope: AllContainers(), Verdict: Block}, // default for containers
		Rule{ID: 101, Scope: AllContainers(), Prefix: netip.MustParsePrefix("127.0.0.1/32"), Port: uint16(a.Port), Proto: ProtoTCP, Verdict: Allow},
		Rule{ID: 102, Scope: Host(), Prefix: netip.MustParsePrefix("127.0.0.1/32"), Port: uint16(a.Port), Proto: ProtoTCP, Verdict: Block},
	)
	if got := attempt(t, cgDir, tcp4("127.0.0.1", a.Port)); got != "ok" {
		t.Errorf("allow-listed port from a container: %s, want ok", got)
	}
	a.acceptOne(t)
	if got := attempt(t, cgDir, tcp4("127.0.0.1", b.Port)); got != "EPERM" {
		t.Errorf("other port from a container under default block: %s, want EPERM", got)
	}
	if d := h.decision(t, cg); d.RuleID != 100 {
		t.Errorf("decision %+v, want the default rule 100", d)
	}
	// The host rule 102 applies outside containers.
	if got := attempt(t, nil, tcp4("127.0.0.1", a.Port)); got != "EPERM" {
		t.Errorf("host connect under host block: %s, want EPERM", got)
	}

	// A cgroup rule beats the all-containers one with the same prefix,
	// port and protocol.
	h.apply(t,
		Rule{ID: 200, Scope: AllContainers(), Port: uint16(b.Port), Verdict: Block},
		Rule{ID: 201, Scope: Cgroup(cg), Port: uint16(b.Port), Verdict: Allow},
	)
	if got := attempt(t, cgDir, tcp4("127.0.0.1", b.Port)); got != "ok" {
		t.Errorf("cgroup allow over all-containers block: %s, want ok", got)
	}
	b.acceptOne(t)
	// Forgotten, the cgroup is host again and all-containers rules miss it.
	if err := h.g.SetContainer(cg, false); err != nil {
		t.Fatal(err)
	}
	h.apply(t, Rule{ID: 300, Scope: AllContainers(), Verdict: Block})
	if got := attempt(t, cgDir, tcp4("127.0.0.1", b.Port)); got != "ok" {
		t.Errorf("forgotten container under all-containers block: %s, want ok", got)
	}
	b.acceptOne(t)
	if st := h.g.Status(); st.Containers != 0 {
		t.Errorf("status %+v, want no containers", st)
	}
}

// TestCloseDetaches: after Close no program of ours is left on the root and
// blocked connects work again.
func TestCloseDetaches(t *testing.T) {
	h := openGuard(t, Config{})
	cgDir, cg := newCgroup(t)
	l := listen(t, "tcp4", "127.0.0.1:0")
	h.apply(t, Rule{ID: 1, Scope: Cgroup(cg), Verdict: Block})
	if got := attempt(t, cgDir, tcp4("127.0.0.1", l.Port)); got != "EPERM" {
		t.Fatalf("before Close: %s, want EPERM", got)
	}
	st := h.g.Status()
	if len(st.Hooks) != 4 {
		t.Errorf("status %+v, want four hooks", st)
	}
	var ids []ebpf.ProgramID
	for _, p := range []*ebpf.Program{h.g.objs.SgConnect4, h.g.objs.SgConnect6, h.g.objs.SgSendmsg4, h.g.objs.SgSendmsg6} {
		info, err := p.Info()
		if err != nil {
			t.Fatal(err)
		}
		id, _ := info.ID()
		ids = append(ids, id)
	}
	attached := func() int {
		n := 0
		for _, at := range []ebpf.AttachType{ebpf.AttachCGroupInet4Connect, ebpf.AttachCGroupInet6Connect,
			ebpf.AttachCGroupUDP4Sendmsg, ebpf.AttachCGroupUDP6Sendmsg} {
			res, err := link.QueryPrograms(link.QueryOptions{Target: int(mustOpen(t, st.CgroupRoot).Fd()), Attach: at})
			if err != nil {
				t.Fatalf("query %s: %v", at, err)
			}
			for _, p := range res.Programs {
				for _, id := range ids {
					if p.ID == id {
						n++
					}
				}
			}
		}
		return n
	}
	if n := attached(); n != 4 {
		t.Fatalf("%d of our programs attached to %s, want 4", n, st.CgroupRoot)
	}
	if err := h.g.Close(); err != nil {
		t.Error(err)
	}
	if n := attached(); n != 0 {
		t.Errorf("%d of our programs still attached after Close", n)
	}
	if got := attempt(t, cgDir, tcp4("127.0.0.1", l.Port)); got != "ok" {
		t.Errorf("after Close: %s, want ok", got)
	}
	l.acceptOne(t)
	if err := h.g.Apply(nil); err == nil {
		t.Error("Apply after Close succeeded")
	}
	if s := h.g.Stats(); s.Blocked != 1 {
		t.Errorf("stats after Close %+v, want the final count kept", s)
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
