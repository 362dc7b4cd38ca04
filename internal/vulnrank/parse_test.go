package vulnrank

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// A real table from this machine (ssh on 0.0.0.0:22, a client connection,
// a loopback listener), with the kernel's trailing columns.
const tcpSample = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20883 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 31337 1 0000000000000000 100 0 0 10 0
   2: 0F02000A:0016 0202000A:D1F2 01 00000000:00000000 02:0009E9C6 00000000     0        0 40001 4 0000000000000000 20 4 29 10 -1
`

const tcp6Sample = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 555 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 556 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 557 2 0000000000000000 0
`

func TestParseNet(t *testing.T) {
	got, err := parseNet([]byte(tcpSample))
	if err != nil {
		t.Fatal(err)
	}
	want := []netSocket{
		{Local: netip.MustParseAddrPort("0.0.0.0:22"), Remote: netip.MustParseAddrPort("0.0.0.0:0"), State: stateListen, Inode: 20883},
		{Local: netip.MustParseAddrPort("127.0.0.1:8080"), Remote: netip.MustParseAddrPort("0.0.0.0:0"), State: stateListen, Inode: 31337},
		{Local: netip.MustParseAddrPort("10.0.2.15:22"), Remote: netip.MustParseAddrPort("10.0.2.2:53746"), State: 1, Inode: 40001},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	got6, err := parseNet([]byte(tcp6Sample))
	if err != nil {
		t.Fatal(err)
	}
	want6 := []string{"[::]:80", "[::1]:8081", "[::ffff:127.0.0.1]:53"}
	for i, w := range want6 {
		if got6[i].Local.String() != w {
			t.Errorf("row %d: %s, want %s", i, got6[i].Local, w)
		}
	}
	l := Listener{Proto: "udp6", Addr: got6[2].Local}
	if !l.Loopback() || l.String() != "[::ffff:127.0.0.1]:53/udp" {
		t.Errorf("v4-mapped loopback: Loopback()=%v String()=%s", l.Loopback(), l)
	}
}

func TestParseNetBadRows(t *testing.T) {
	data := "header\n   0: 0100007F:1F90 00000000:0000 0A 0 0 0 0 0 77\n   1: 0100007G:1F90 00000000:0000 0A 0 0 0 0 0 78\n   2: short\n"
	got, err := parseNet([]byte(data))
	if len(got) != 1 || got[0].Inode != 77 {
		t.Fatalf("good rows: %+v", got)
	}
	if err == nil || err.Error() != `line 3: local address "0100007G:1F90": address not hex` {
		t.Fatalf("error: %v", err)
	}
}

func TestParseMaps(t *testing.T) {
	data := `55d0c0a00000-55d0c0a02000 r--p 00000000 fe:01 1234                       /usr/bin/sleep
55d0c0a02000-55d0c0a06000 r-xp 00002000 fe:01 1234                       /usr/bin/sleep
55d0c1b00000-55d0c1b21000 rw-p 00000000 00:00 0                          [heap]
7f1c2a000000-7f1c2a028000 r--p 00000000 fe:01 5678                       /usr/lib/x86_64-linux-gnu/libc.so.6
7f1c2b000000-7f1c2b001000 rw-s 00000000 00:01 99                         /memfd:shm (deleted)
7f1c2c000000-7f1c2c001000 r--p 00000000 fe:01 4242                       /opt/my app/lib two.so (deleted)
7f1c2d000000-7f1c2d001000 r--p 00000000 00:0e 7                          anon_inode:[perf_event]
7ffd5c9f0000-7ffd5c9f2000 r-xp 00000000 00:00 0                          [vdso]
`
	got, err := parseMaps([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/usr/bin/sleep", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/memfd:shm", "/opt/my app/lib two.so"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	_, err = parseMaps([]byte("00400000-00401000 r--p 00000000 00:26 x /bin/busybox\n"))
	if err == nil || err.Error() != `line 1: inode "x": not a number` {
		t.Fatalf("bad inode: %v", err)
	}
	_, err = parseMaps([]byte("00400000 r--p 00000000 00:26 1 /bin/busybox\n"))
	if err == nil || !strings.Contains(err.Error(), "no '-'") {
		t.Fatalf("bad range: %v", err)
	}
}

func FuzzParseNet(f *testing.F) {
	f.Add([]byte(tcpSample))
	f.Add([]byte(tcp6Sample))
	f.Add([]byte("h\n 0: 0:0 0:0 0 0 0 0 0 0 0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		socks, _ := parseNet(data)
		for _, s := range socks {
			if !s.Local.IsValid() || !s.Remote.IsValid() {
				t.Fatalf("invalid address accepted: %+v", s)
			}
			_ = Listener{Proto: "tcp", Addr: s.Local}.String()
		}
	})
}

func FuzzParseMaps(f *testing.F) {
	f.Add([]byte("00400000-00401000 r--p 00000000 00:26 827540   /bin/busybox\n"))
	f.Add([]byte("7f1c2c000000-7f1c2c001000 r--p 00000000 fe:01 4242 /opt/my app/lib.so (deleted)\n[vdso]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		paths, _ := parseMaps(data)
		seen := map[string]bool{}
		for _, p := range paths {
			if p == "" || p[0] != '/' || seen[p] || strings.ContainsRune(p, '\n') {
				t.Fatalf("bad path %q in %q", p, paths)
			}
			if utf8.ValidString(string(data)) && !utf8.ValidString(p) {
				t.Fatalf("valid input gave invalid path %q", p)
			}
			seen[p] = true
		}
	})
}
