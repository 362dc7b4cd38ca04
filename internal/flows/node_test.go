package flows

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/workload"
)

// TestListenersFollowProcesses: a listener goes with its process, a
// later listen by another process replaces it, and a replacing seed
// forgets sockets closed without an exit but keeps those that came after
// the seed began.
func TestListenersFollowProcesses(t *testing.T) {
	a, clk := newAgg(t, Config{}, nil)
	n := a.Node()
	n.Listen(Listener{Workload: server, Addr: ap("0.0.0.0:8080"), Proto: TCP, PID: 20})
	n.Listen(Listener{Workload: server, Addr: ap("0.0.0.0:9090"), Proto: TCP, PID: 21})
	n.Listen(Listener{Workload: hostWl, Addr: ap("[::ffff:127.0.0.1]:80"), Proto: TCP, PID: 30})
	n.Exited(21)
	n.Exited(999) // no listeners: nothing happens
	got := n.Listeners()
	if len(got) != 2 || got[0].Workload != hostWl || got[0].Addr.String() != "127.0.0.1:80" || got[1].Addr.Port() != 8080 {
		t.Fatalf("listeners %+v", got)
	}
	clk.Add(time.Minute)
	start := clk.Now()
	clk.Add(time.Second)
	n.Listen(Listener{Workload: server, Addr: ap("0.0.0.0:7070"), Proto: UDP, PID: 22}) // after the seed began
	resolve := func(pid uint32) (*workload.Workload, string, bool) {
		if pid == 20 {
			return server, "api", true
		}
		return nil, "", false
	}
	added := n.Seed([]Socket{{PID: 20, Addr: ap("0.0.0.0:8080"), Proto: TCP}, {PID: 77, Addr: ap("0.0.0.0:1"), Proto: TCP}},
		start, true, resolve)
	if added != 1 {
		t.Errorf("seed attributed %d sockets, want 1", added)
	}
	var ports []uint16
	for _, l := range n.Listeners() {
		ports = append(ports, l.Addr.Port())
	}
	if len(ports) != 2 || ports[0] != 7070 || ports[1] != 8080 {
		t.Errorf("after the seed: ports %v, want [7070 8080]", ports)
	}
}

func TestListenerBound(t *testing.T) {
	a, _ := newAgg(t, Config{MaxListeners: 2}, nil)
	n := a.Node()
	for i, port := range []string{"1", "2", "3"} {
		ok := n.Listen(Listener{Workload: server, Addr: ap("0.0.0.0:" + port), Proto: TCP, PID: 20})
		if ok != (i < 2) {
			t.Errorf("listener %d accepted=%v", i, ok)
		}
	}
	if n.Dropped() != 1 {
		t.Errorf("dropped %d", n.Dropped())
	}
}

// fakeProc builds a proc root with two network namespaces: the host's
// (pid 1, listening on 127.0.0.1:8080 and [::]:80, with an established
// connection) and a container's (pids 200 and 201; 201 holds a UDP
// socket on 53 and a client's UDP socket on an ephemeral port).
func fakeProc(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	const header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	files := map[string]string{
		"1/net/tcp": header +
			"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0\n" +
			"   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 1002 1 0000000000000000 20 4 30 10 -1\n" +
			"   2: garbage\n",
		"1/net/tcp6": header +
			"   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1003 1 0000000000000000 100 0 0 10 0\n",
		"1/net/udp":   header,
		"200/net/tcp": header,
		"200/net/udp": header +
			"   0: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 2001 2 0000000000000000 0\n" +
			"   1: 0500F40A:C350 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 2002 2 0000000000000000 0\n",
		"sys/net/ipv4/ip_local_port_range": "32768\t60999\n",
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"1/ns/net": "net:[4026531840]", "1/fd/3": "socket:[1001]", "1/fd/4": "/dev/null", "1/fd/5": "socket:[1003]",
		"200/ns/net": "net:[4026532001]", "200/fd/0": "/dev/null",
		"201/ns/net": "net:[4026532001]", "201/fd/7": "socket:[2001]", "201/fd/8": "socket:[2002]",
		"300/ns/net": "net:[4026531840]", "300/fd/3": "socket:[1001]", // shares pid 1's socket
	}
	for name, target := range links {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	// A process that vanished: no ns link.
	if err := os.MkdirAll(filepath.Join(root, "400"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestReadListening(t *testing.T) {
	got, err := ReadListening(fakeProc(t))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, s := range got {
		lines = append(lines, s.Addr.String()+"/"+s.Proto.String()+" pid "+strconv.FormatUint(uint64(s.PID), 10))
	}
	want := "127.0.0.1:8080/tcp pid 1,[::]:80/tcp pid 1,0.0.0.0:53/udp pid 201"
	if strings.Join(lines, ",") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(lines, ","), want)
	}
	if got[2].NetNS != 4026532001 {
		t.Errorf("netns %d", got[2].NetNS)
	}
	if _, err := ReadListening(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing root is not an error")
	}
}
