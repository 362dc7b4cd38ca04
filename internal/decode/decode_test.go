package decode

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/event"
)

// record builds a wire record the way bpf/vigil.h lays it out.
type record struct{ b []byte }

func newRecord(kind uint16, nr int32, pid uint32, comm string) *record {
	r := &record{b: make([]byte, headerSize)}
	le.PutUint64(r.b[0:], 123456789)
	le.PutUint64(r.b[8:], 42)
	le.PutUint64(r.b[16:], 0)
	le.PutUint16(r.b[24:], kind)
	le.PutUint32(r.b[28:], uint32(nr))
	le.PutUint32(r.b[32:], pid)
	le.PutUint32(r.b[36:], pid+1)
	le.PutUint32(r.b[40:], 1)
	copy(r.b[48:64], comm)
	return r
}

func (r *record) ret(v int64) *record    { le.PutUint64(r.b[16:], uint64(v)); return r }
func (r *record) raw(b ...byte) *record  { r.b = append(r.b, b...); return r }
func (r *record) u16(v uint16) *record   { r.b = le.AppendUint16(r.b, v); return r }
func (r *record) u32(v uint32) *record   { r.b = le.AppendUint32(r.b, v); return r }
func (r *record) u64(v uint64) *record   { r.b = le.AppendUint64(r.b, v); return r }
func (r *record) field(s string) *record { return r.u16(uint16(len(s))).raw([]byte(s)...) }
func (r *record) done() []byte {
	le.PutUint16(r.b[26:], uint16(len(r.b)))
	return r.b
}

func execRecord() []byte {
	r := newRecord(wireExec, 59, 100, "bash")
	r.u32(1000).u32(1001).u32(0).u32(0) // uid gid euid egid
	r.u32(1000).u32(34816).u32(90).u32(100)
	r.u64(0x1ff).u64(0x3ff)
	r.u32(4026531841).u32(uint32(event.ExecFromMemfd | event.ExecLoginUIDSet | event.ExecSecure | event.ExecStdio))
	// stdin and stdout one IPv4 socket, stderr a pipe.
	r.raw(stdioAddr|4, stdioAddr|4, 3, 0).u16(51000).u16(4444)
	r.raw(10, 0, 0, 5).raw(make([]byte, 12)...).raw(203, 0, 113, 7).raw(make([]byte, 12)...)
	r.field("/bin/sh").field("/usr/bin/dash").field("/root").field("sh\x00-c\x00echo hi\x00")
	r.field("LD_PRELOAD=/tmp/x.so\x00GLIBC_TUNABLES=a=b")
	return r.done()
}

func TestDecodeExec(t *testing.T) {
	ev := event.New()
	defer ev.Release()
	if err := Decode(execRecord(), ev); err != nil {
		t.Fatal(err)
	}
	want := event.Exec{
		Filename: "/bin/sh", Exe: "/usr/bin/dash", Cwd: "/root", Args: "sh\x00-c\x00echo hi",
		UID: 1000, GID: 1001, LoginUID: 1000, TTY: 34816, SID: 90, PGID: 100,
		CapEffective: 0x1ff, CapPermitted: 0x3ff, MntNS: 4026531841,
		Flags:     event.ExecFromMemfd | event.ExecLoginUIDSet | event.ExecSecure | event.ExecStdio,
		LoaderEnv: "LD_PRELOAD=/tmp/x.so\x00GLIBC_TUNABLES=a=b",
		Stdio: event.Stdio{
			Type:   [3]event.StdioType{event.StdioIPv4, event.StdioIPv4, event.StdioPipe},
			Addr:   [3]bool{true, true, false},
			Local:  netip.MustParseAddrPort("10.0.0.5:51000"),
			Remote: netip.MustParseAddrPort("203.0.113.7:4444"),
		},
	}
	if ev.Kind != event.KindExec || ev.Exec != want || ev.Comm != "bash" || ev.PID != 100 || ev.TID != 101 ||
		ev.PPID != 1 || ev.CgroupID != 42 || ev.Timestamp != 123456789 || ev.Syscall != 59 {
		t.Fatalf("got %+v", ev)
	}
	if got := ev.Exec.Argv(); len(got) != 3 || got[2] != "echo hi" {
		t.Fatalf("argv %q", got)
	}
}

// TestDecodeStdio covers the standard fds the exec hook reads: an IPv6
// socket's ends, none without the flag, and no ends for a marked fd that
// is no IP socket.
func TestDecodeStdio(t *testing.T) {
	body := func(flags event.ExecFlags, stdio [3]byte, laddr, raddr []byte) []byte {
		b := make([]byte, execSize)
		le.PutUint32(b[execFlags:], uint32(flags))
		copy(b[execStdio:], stdio[:])
		le.PutUint16(b[execLport:], 22)
		le.PutUint16(b[execRport:], 40000)
		copy(b[execLaddr:], laddr)
		copy(b[execRaddr:], raddr)
		return b
	}
	v6 := func(s string) []byte { a := netip.MustParseAddr(s).As16(); return a[:] }
	for _, c := range []struct {
		name string
		body []byte
		want event.Stdio
	}{
		{"ipv6 socket on stdout only", body(event.ExecStdio, [3]byte{1, stdioAddr | 5, 0}, v6("2001:db8::1"), v6("2001:db8::2")),
			event.Stdio{Type: [3]event.StdioType{event.StdioFile, event.StdioIPv6, event.StdioNone}, Addr: [3]bool{false, true, false},
				Local: netip.MustParseAddrPort("[2001:db8::1]:22"), Remote: netip.MustParseAddrPort("[2001:db8::2]:40000")}},
		{"no flag", body(0, [3]byte{stdioAddr | 4, 4, 4}, []byte{1, 2, 3, 4}, []byte{5, 6, 7, 8}), event.Stdio{}},
		{"mark on a unix socket", body(event.ExecStdio, [3]byte{stdioAddr | 6, 7, 2}, []byte{1, 2, 3, 4}, []byte{5, 6, 7, 8}),
			event.Stdio{Type: [3]event.StdioType{event.StdioUnix, event.StdioOther, event.StdioDir}}},
	} {
		r := newRecord(wireExec, 59, 100, "sh")
		r.raw(c.body...).field("/bin/sh").field("/bin/sh").field("/").field("sh").field("")
		ev := event.New()
		if err := Decode(r.done(), ev); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if ev.Exec.Stdio != c.want {
			t.Errorf("%s: stdio %+v, want %+v", c.name, ev.Exec.Stdio, c.want)
		}
		ev.Release()
	}
}

func TestDecodeOpenJoinsAndCleans(t *testing.T) {
	for _, c := range []struct{ raw, base, want string }{
		{"a/../b//c/./d", "/srv/app", "/srv/app/b/c/d"},
		{"../../../../etc/shadow", "/srv/app", "/etc/shadow"},
		{"/etc//passwd/", "", "/etc/passwd"},
		{"x", "/", "/x"},
		{".", "/tmp", "/tmp"},
		{"rel", "", "rel"}, // base unknown (bad dirfd): kept as given
		{"", "/tmp", "/tmp"},
	} {
		r := newRecord(wireOpen, 257, 7, "cat").ret(-2)
		r.u32(uint32(0xffffff9c)).u32(0o1101).u32(0o644).u32(0).u64(0)
		r.field(c.raw).field(c.base)
		ev := event.New()
		if err := Decode(r.done(), ev); err != nil {
			t.Fatal(err)
		}
		if ev.Open.Path != c.want || ev.Open.RawPath != c.raw || ev.Open.DirFD != -100 || ev.Open.Flags != 0o1101 ||
			ev.Open.Mode != 0o644 || ev.Ret != -2 {
			t.Errorf("raw %q base %q: got %+v ret %d; want path %q", c.raw, c.base, ev.Open, ev.Ret, c.want)
		}
		ev.Release()
	}
}

func socketRecord(op event.SocketOp, family uint16, user []byte) *record {
	r := newRecord(wireSocket, 42, 9, "curl")
	r.u32(3).u16(family).u16(1).u16(6).u16(40000).u16(0).u16(uint16(op))
	r.raw(127, 0, 0, 1).raw(make([]byte, 12)...).raw(make([]byte, 16)...)
	r.u32(0).u32(0)
	r.field("").field("").field(string(user))
	return r
}

func TestDecodeSocketPrefersUserAddress(t *testing.T) {
	sa := make([]byte, 16)
	le.PutUint16(sa, unix.AF_INET)
	binary.BigEndian.PutUint16(sa[2:], 8080)
	copy(sa[4:], []byte{10, 1, 2, 3})
	ev := event.New()
	defer ev.Release()
	if err := Decode(socketRecord(event.OpConnect, unix.AF_INET, sa).ret(-111).done(), ev); err != nil {
		t.Fatal(err)
	}
	s := ev.Socket
	if s.Op != event.OpConnect || s.Local != netip.MustParseAddrPort("127.0.0.1:40000") ||
		s.Remote != netip.MustParseAddrPort("10.1.2.3:8080") || s.FD != 3 || s.Protocol != 6 || ev.Ret != -111 {
		t.Fatalf("got %+v", s)
	}
}

func TestDecodeUnixAbstract(t *testing.T) {
	sa := append([]byte{unix.AF_UNIX, 0, 0}, "vigil-abstract\x00\x00"...)
	ev := event.New()
	defer ev.Release()
	if err := Decode(socketRecord(event.OpConnect, unix.AF_UNIX, sa).done(), ev); err != nil {
		t.Fatal(err)
	}
	if ev.Socket.RemotePath != "@vigil-abstract" {
		t.Fatalf("remote path %q", ev.Socket.RemotePath)
	}
}

func TestDecodeErrors(t *testing.T) {
	full := execRecord()
	for _, c := range []struct {
		name string
		rec  []byte
	}{
		{"empty", nil},
		{"short header", full[:40]},
		{"size beyond record", full[:100]},
		{"unknown kind", func() []byte { b := append([]byte(nil), full...); le.PutUint16(b[24:], 99); return b }()},
		{"exec without its loader environment", func() []byte {
			r := newRecord(wireExec, 59, 100, "sh")
			r.raw(make([]byte, execSize)...).field("/bin/sh").field("/bin/sh").field("/").field("sh")
			return r.done()
		}()},
		{"field overrun", func() []byte {
			b := append([]byte(nil), full...)
			le.PutUint16(b[headerSize+execSize:], 60000) // filename length
			return b
		}()},
	} {
		ev := event.New()
		err := Decode(c.rec, ev)
		var derr *Error
		if !errors.As(err, &derr) {
			t.Errorf("%s: want *decode.Error, got %v", c.name, err)
		}
		ev.Release()
	}
}

func TestDecodeDoesNotAllocate(t *testing.T) {
	rec := execRecord()
	ev := event.New()
	if err := Decode(rec, ev); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		ev.Reset()
		if err := Decode(rec, ev); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Decode allocates %.1f times per event", allocs)
	}
}

func BenchmarkDecodeExec(b *testing.B) {
	benchDecode(b, execRecord())
}

func BenchmarkDecodeOpen(b *testing.B) {
	r := newRecord(wireOpen, 257, 7, "cat")
	r.u32(uint32(0xffffff9c)).u32(0).u32(0).u32(0).u64(0)
	r.field("lib/x86_64-linux-gnu/libc.so.6").field("/usr")
	benchDecode(b, r.done())
}

func benchDecode(b *testing.B, rec []byte) {
	ev := event.New()
	b.ReportAllocs()
	b.SetBytes(int64(len(rec)))
	for b.Loop() {
		ev.Reset()
		if err := Decode(rec, ev); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzDecode feeds arbitrary records to the decoder: it must return an error
// or an event, never panic or read out of bounds.
func FuzzDecode(f *testing.F) {
	f.Add(execRecord())
	r := newRecord(wireOpen, 257, 7, "cat")
	r.u32(5).u32(0).u32(0).u32(0).u64(0).field("../x").field("/a/b")
	f.Add(r.done())
	f.Add(socketRecord(event.OpAccept, unix.AF_INET6, nil).done())
	f.Add(newRecord(wireFork, -1, 1, "init").u32(2).u32(2).u32(0).u32(0).done())
	f.Add(newRecord(wireExit, -1, 1, "x").u32(0x8b).u32(0).done())
	f.Fuzz(func(t *testing.T, rec []byte) {
		ev := event.New()
		defer ev.Release()
		if err := Decode(rec, ev); err != nil {
			return
		}
		// Touch every string: a bad view would fault here.
		_ = len(ev.Comm) + len(ev.Exec.Args) + len(ev.Exec.Exe) + len(ev.Exec.Cwd) + len(ev.Exec.LoaderEnv) + len(ev.Open.Path) +
			len(ev.Socket.LocalPath) + len(ev.Socket.RemotePath)
	})
}
