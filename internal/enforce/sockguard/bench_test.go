package sockguard

import (
	"net"

	"net/netip"
	"os"
	"os/exec"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/vigilsec/vigil/internal/testutil"

	"golang.org/x/sys/unix"
)

// BenchmarkConnect measures socket+connect+close to a loopback listener,
// bare and then with the programs attached and a 256-rule policy that
// every lookup of the connect has to search (none of the rules matches it).
// The benchmark process is not protected, so it pays the full check. The
// guarded run reports its time relative to the bare one as "ratio".
// UDP connect does no handshake, so it shows the hook's own cost best.
func BenchmarkConnect(b *testing.B) {
	for _, proto := range []string{"tcp", "udp"} {
		b.Run(proto, func(b *testing.B) {
			dst := benchTarget(b, proto)
			var bare float64
			b.Run("bare", func(b *testing.B) {
				connectLoop(b, proto, dst)
				bare = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			})
			b.Run("guarded", func(b *testing.B) {
				h := openGuard(b, Config{AgentPID: otherPID(b)})
				if err := h.g.Apply(benchPolicy(b, dst.Port)); err != nil {
					b.Fatal(err)
				}
				// Kernel run-time accounting gives the program's own cost per
				// call, which the machine's noise hides in ns/op.
				if st, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME)); err == nil {
					defer st.Close()
				}
				s0, _ := h.g.objs.SgConnect4.Stats()
				connectLoop(b, proto, dst)
				if s1, err := h.g.objs.SgConnect4.Stats(); err == nil && s0 != nil && s1.RunCount > s0.RunCount {
					b.ReportMetric(float64(s1.Runtime-s0.Runtime)/float64(s1.RunCount-s0.RunCount), "prog-ns/call")
				}
				if st := h.g.Stats(); st.Blocked != 0 || st.Checks < uint64(b.N) {
					b.Fatalf("stats %+v after %d connects: want all checked, none blocked", st, b.N)
				}
				if bare > 0 {
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/bare, "ratio")
				}
			})
		})
	}
}

// benchTarget starts a loopback listener (TCP: accepting and closing in
// the background) and returns its address.
func benchTarget(b *testing.B, proto string) unix.SockaddrInet4 {
	if proto == "udp" {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { pc.Close() })
		return unix.SockaddrInet4{Port: pc.LocalAddr().(*net.UDPAddr).Port, Addr: [4]byte{127, 0, 0, 1}}
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close() // accepted only for the connect to succeed
		}
	}()
	return unix.SockaddrInet4{Port: l.Addr().(*net.TCPAddr).Port, Addr: [4]byte{127, 0, 0, 1}}
}

func connectLoop(b *testing.B, proto string, dst unix.SockaddrInet4) {
	typ := unix.SOCK_STREAM
	if proto == "udp" {
		typ = unix.SOCK_DGRAM
	}
	b.ResetTimer()
	for b.Loop() {
		fd, err := unix.Socket(unix.AF_INET, typ, 0)
		if err != nil {
			b.Fatal(err)
		}
		if typ == unix.SOCK_STREAM {
			// Reset on close: no TIME_WAIT, so ephemeral ports last.
			if err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}); err != nil {
				b.Fatal(err)
			}
		}
		if err := unix.Connect(fd, &dst); err != nil {
			b.Fatalf("connect: %v", err)
		}
		unix.Close(fd)
	}
}

// benchPolicy blocks 64 low ports in each combination of protocol and
// host/this cgroup scope, half on 127.0.0.0/8 and half on /24s inside it,
// so the lookups for a loopback connect walk real trie nodes. The target
// (an ephemeral port) matches none of them.
func benchPolicy(b *testing.B, port int) []Rule {
	if port <= 64 {
		b.Fatalf("target port %d collides with the policy's ports", port)
	}
	cg := ownCgroupID(b)
	var rules []Rule
	id := uint32(0)
	for _, scope := range []Scope{Host(), Cgroup(cg)} {
		for _, proto := range []Proto{ProtoAny, ProtoTCP, ProtoUDP} {
			for i := range 64 {
				id++
				p := netip.MustParsePrefix("127.0.0.0/8")
				if i%2 == 1 {
					p = netip.PrefixFrom(netip.AddrFrom4([4]byte{127, 0, byte(i), 0}), 24)
				}
				rules = append(rules, Rule{ID: id, Scope: scope, Prefix: p, Port: uint16(1 + i), Proto: proto, Verdict: Block})
			}
		}
	}
	return rules
}

// ownCgroupID is the cgroup v2 id of this process.
func ownCgroupID(b testing.TB) uint64 {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		b.Fatal(err)
	}
	root, err := FindCgroupRoot()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range splitLines(string(data)) {
		if len(line) > 3 && line[:3] == "0::" {
			id, err := CgroupID(root + line[3:])
			if err != nil {
				b.Fatal(err)
			}
			return id
		}
	}
	b.Fatal("no cgroup v2 line in /proc/self/cgroup")
	return 0
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

// otherPID starts a process that stands in as the agent, so the benchmark
// itself is checked like any other process.
func otherPID(b testing.TB) int {
	cmd := exec.Command("sleep", "3600")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { testutil.KillAndWait(cmd) })
	return cmd.Process.Pid
}
