package proc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
)

// formatInet prints a socket the way the kernel prints tcp and udp lines.
func formatInet(s inetSock) []byte {
	hexAddr := func(ap netip.AddrPort) string {
		raw := ap.Addr().AsSlice()
		out := ""
		for i := 0; i < len(raw); i += 4 {
			out += fmt.Sprintf("%08X", binary.NativeEndian.Uint32(raw[i:]))
		}
		return fmt.Sprintf("%s:%04X", out, ap.Port())
	}
	return fmt.Appendf(nil, "   0: %s %s %02X 00000000:00000000 00:00000000 00000000     0        0 %d 1 0000000087ca2f72 100 0 0 10 0",
		hexAddr(s.Local), hexAddr(s.Remote), s.State, s.Inode)
}

func TestParseInetLine(t *testing.T) {
	for _, tc := range []struct {
		line          string
		local, remote string
		state         uint8
		inode         uint64
	}{
		{"   0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1059 1 0000000087ca2f72 100 0 0 10 0",
			"127.0.0.1:631", "0.0.0.0:0", 0x0a, 1059},
		{"  12: 0F02000A:C350 22D8B85D:01BB 01 00000000:00000000 02:000A7D5A 00000000  1000        0 98765 2 0000000000000000 20 4 30 10 -1",
			"10.0.2.15:50000", "93.184.216.34:443", 0x01, 98765},
		{"   1: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 555 1 0000000000000000 100 0 0 10 0",
			"[::1]:8080", "[::]:0", 0x0a, 555},
	} {
		s, ok := parseInetLine([]byte(tc.line))
		if !ok || s.Local.String() != tc.local || s.Remote.String() != tc.remote || s.State != tc.state || s.Inode != tc.inode {
			t.Errorf("%q: %+v %v", tc.line, s, ok)
		}
	}
	for _, bad := range []string{
		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
		"",
		"   0: 0100007F:0277 00000000:0000 0A",
		"   0: 0100007F:277 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1",
		"   0: 0100007F:0277 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1",
		"   x: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1",
		"   0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 -1",
	} {
		if s, ok := parseInetLine([]byte(bad)); ok {
			t.Errorf("accepted %q as %+v", bad, s)
		}
	}
}

func TestParseUnixAndNetlinkLines(t *testing.T) {
	for _, tc := range []struct {
		line       string
		listening  bool
		typ, state uint8
		inode      uint64
		path       string
	}{
		{"00000000f4d26549: 00000002 00000000 00010000 0001 01 1133270 /var/run/docker.sock", true, 1, 1, 1133270, "/var/run/docker.sock"},
		{"000000000fbfc844: 00000003 00000000 00000000 0001 03 1133287", false, 1, 3, 1133287, ""},
		{"0000000000000000: 00000002 00000000 00000000 0002 01    42 @/tmp/.X11 with spaces", false, 2, 1, 42, "@/tmp/.X11 with spaces"},
	} {
		s, ok := parseUnixLine([]byte(tc.line))
		if !ok || s.Listening != tc.listening || s.Type != tc.typ || s.State != tc.state || s.Inode != tc.inode || string(s.Path) != tc.path {
			t.Errorf("%q: %+v %v", tc.line, s, ok)
		}
	}
	for _, bad := range []string{"Num       RefCount Protocol Flags    Type St Inode Path", "0: 1 2 3 4 5", "zz: 1 2 3 4 5 6"} {
		if s, ok := parseUnixLine([]byte(bad)); ok {
			t.Errorf("accepted %q as %+v", bad, s)
		}
	}
	s, ok := parseNetlinkLine([]byte("00000000b9032e13 0   12961      00000000 0        0        0     2        0        1135602 "))
	if !ok || s.Protocol != 0 || s.Inode != 1135602 {
		t.Errorf("netlink: %+v %v", s, ok)
	}
	if _, ok := parseNetlinkLine([]byte("sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode")); ok {
		t.Error("netlink header accepted")
	}
}

// FuzzParseInetLine checks that the parser never panics and that what it
// accepts survives a round trip through the kernel's format.
func FuzzParseInetLine(f *testing.F) {
	f.Add([]byte("   0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1059 1 0000000087ca2f72 100 0 0 10 0"))
	f.Add([]byte("   1: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 0:0 0:0 0 0 0 555"))
	f.Fuzz(func(t *testing.T, line []byte) {
		s, ok := parseInetLine(line)
		if !ok {
			return
		}
		again, ok := parseInetLine(formatInet(s))
		if !ok || again != s {
			t.Fatalf("%+v became %+v (%v)", s, again, ok)
		}
	})
}

// FuzzParseUnixLine checks the unix table parser the same way.
func FuzzParseUnixLine(f *testing.F) {
	f.Add([]byte("00000000f4d26549: 00000002 00000000 00010000 0001 01 1133270 /var/run/docker.sock"))
	f.Add([]byte("0: 0 0 0 0 0 0 "))
	f.Fuzz(func(t *testing.T, line []byte) {
		s, ok := parseUnixLine(line)
		if !ok {
			return
		}
		if len(s.Path) > len(line) {
			t.Fatal("path longer than the line")
		}
		flags := 0
		if s.Listening {
			flags = unixAcceptCon
		}
		out := fmt.Appendf(nil, "0000000000000000: 00000002 00000000 %08X %04X %02X %5d", flags, s.Type, s.State, s.Inode)
		if len(s.Path) > 0 {
			out = append(append(out, ' '), s.Path...)
		}
		again, ok := parseUnixLine(out)
		if !ok || again.Listening != s.Listening || again.Type != s.Type || again.State != s.State ||
			again.Inode != s.Inode || !bytes.Equal(again.Path, s.Path) {
			t.Fatalf("%+v became %+v (%v) through %q", s, again, ok, out)
		}
	})
}

// FuzzParseNetlinkLine checks that the netlink parser never panics.
func FuzzParseNetlinkLine(f *testing.F) {
	f.Add([]byte("00000000b9032e13 0   12961      00000000 0        0        0     2        0        1135602"))
	f.Fuzz(func(t *testing.T, line []byte) {
		if s, ok := parseNetlinkLine(line); ok && s.Inode == 0 && !bytes.Contains(line, []byte("0")) {
			t.Fatal("inode 0 from a line without a zero")
		}
	})
}
