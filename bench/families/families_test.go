// Package families measures what one event of each syscall family costs in
// user space: decoding the kernel's record, applying it to the process
// and fd tables, and evaluating a rule condition that reads the family's
// fields. Run with
//
//	go test ./bench/families -bench . -benchmem
//
// Each op is one event (a pair of events for the open/close and
// fork/exit loops, which keep the tables at a steady state).
package families

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/decode"
	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/rules/compile"
	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/syscalls"
)

var le = binary.LittleEndian

// Wire layout from bpf/vigil.h: a 64-byte header, a fixed body per kind,
// then fields as a u16 length and bytes.
const (
	wireFork, wireExit, wireOpen, wireSocket, wireSyscall = 1, 3, 4, 5, 6
	pid                                                   = 4242
)

// record builds one kernel record.
type record struct{ b []byte }

func newRecord(kind uint16, nr int32, ret int64) *record {
	r := &record{b: make([]byte, 64)}
	le.PutUint64(r.b[0:], 1_000_000)
	le.PutUint64(r.b[16:], uint64(ret))
	le.PutUint16(r.b[24:], kind)
	le.PutUint32(r.b[28:], uint32(nr))
	le.PutUint32(r.b[32:], pid)
	le.PutUint32(r.b[36:], pid)
	le.PutUint32(r.b[40:], 1)
	copy(r.b[48:], "bash")
	return r
}

func (r *record) u16(v uint16) *record { r.b = le.AppendUint16(r.b, v); return r }
func (r *record) u32(v uint32) *record { r.b = le.AppendUint32(r.b, v); return r }
func (r *record) u64(v uint64) *record { r.b = le.AppendUint64(r.b, v); return r }
func (r *record) field(s string) *record {
	r.b = append(le.AppendUint16(r.b, uint16(len(s))), s...)
	return r
}
func (r *record) done() []byte {
	le.PutUint16(r.b[26:], uint16(len(r.b)))
	return r.b
}

// sys builds a generic syscall record. fields are the slot fields in
// order: two (as passed, base directory) for path slots, one otherwise.
func sys(tb testing.TB, name string, ret int64, args [6]uint64, fields ...string) []byte {
	nr, ok := syscalls.Number(name)
	if !ok {
		tb.Fatalf("no syscall %s", name)
	}
	r := newRecord(wireSyscall, nr, ret)
	for _, a := range args {
		r.u64(a)
	}
	r.u32(syscalls.FilterValue(name)).u32(0)
	for _, f := range fields {
		r.field(f)
	}
	return r.done()
}

func openat(path string, fd int64, flags uint32) []byte {
	nr, _ := syscalls.Number("openat")
	return newRecord(wireOpen, nr, fd).u32(0xffffff9c).u32(flags).u32(0).u32(0).u64(0).field(path).field("").done()
}

func connect(fd uint32) []byte {
	nr, _ := syscalls.Number("connect")
	r := newRecord(wireSocket, nr, 0).u32(fd).u16(unix.AF_INET).u16(unix.SOCK_STREAM).u16(unix.IPPROTO_TCP)
	r.u16(43210).u16(4444).u16(5) // ports in host order, H_CONNECT
	r.b = append(r.b, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	r.b = append(r.b, 10, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	return r.u32(0).u32(0).field("").field("").field("").done()
}

// harness is a table with one process (a shell whose stdin is a
// connected socket), a field context and a compiled condition.
type harness struct {
	table *proc.Table
	env   *fields.Env
	ctx   fields.Context
	cond  func(*fields.Context) bool
	ev    *event.Event
}

func newHarness(b *testing.B, cond string) *harness {
	h := &harness{table: proc.New(), ev: event.New()}
	h.env = &fields.Env{Table: h.table}
	exec := event.New()
	exec.Kind, exec.PID, exec.TID, exec.PPID, exec.Comm = event.KindExec, pid, pid, 1, "bash"
	exec.Exec = event.Exec{Exe: "/bin/bash", Args: "bash", Cwd: "/root", LoginUID: proc.NoLoginUID}
	h.table.Apply(exec)
	exec.Release()
	h.feed(b, sys(b, "socket", 3, [6]uint64{unix.AF_INET, unix.SOCK_STREAM}), connect(3),
		sys(b, "dup2", 0, [6]uint64{3, 0}), sys(b, "dup2", 1, [6]uint64{3, 1}))
	e, err := lang.Parse(lang.NewSource("bench", cond, 1, 1))
	if err != nil {
		b.Fatal(err)
	}
	if h.cond, err = compile.Condition[*fields.Context](e, fields.New()); err != nil {
		b.Fatal(err)
	}
	return h
}

// feed decodes and applies records without timing them.
func (h *harness) feed(tb testing.TB, recs ...[]byte) {
	for _, rec := range recs {
		h.ev.Reset()
		if err := decode.Decode(rec, h.ev); err != nil {
			tb.Fatal(err)
		}
		h.table.Apply(h.ev)
	}
}

// run measures decode, apply and evaluation of recs in turn; every
// record's condition must come out as want.
func (h *harness) run(b *testing.B, want bool, recs ...[]byte) {
	b.ReportAllocs()
	ts := uint64(2_000_000)
	for i := 0; b.Loop(); i++ {
		rec := recs[i%len(recs)]
		h.ev.Reset()
		if err := decode.Decode(rec, h.ev); err != nil {
			b.Fatal(err)
		}
		ts += 1000
		h.ev.Timestamp = ts // a live stream's clock, for the fd history
		h.table.Apply(h.ev)
		h.ctx.Reset(h.env, h.ev, uint64(i))
		if h.cond(&h.ctx) != want && i < len(recs) {
			b.Fatalf("condition on %s gave %v", syscalls.Name(h.ev.Syscall), !want)
		}
	}
}

func BenchmarkOpenClose(b *testing.B) {
	h := newHarness(b, "evt.type in (openat, close) and fd.name startswith /etc and fd.typechar = f")
	h.run(b, true, openat("/etc/hosts", 5, unix.O_RDONLY|unix.O_CLOEXEC), sys(b, "close", 0, [6]uint64{5}))
}

func BenchmarkFiles(b *testing.B) {
	h := newHarness(b, "evt.type = renameat2 and evt.arg.newpath startswith /etc and evt.arg.flags contains RENAME_NOREPLACE")
	h.run(b, true, sys(b, "renameat2", 0, [6]uint64{0xffffff9c, 0, 0xffffff9c, 0, unix.RENAME_NOREPLACE},
		"passwd.new", "/etc", "passwd", "/etc"))
}

func BenchmarkProcess(b *testing.B) {
	h := newHarness(b, "evt.type = ptrace and evt.arg.request contains PTRACE_ATTACH and evt.arg.pid != 1")
	h.run(b, true, sys(b, "ptrace", 0, [6]uint64{unix.PTRACE_ATTACH, 777}))
}

func BenchmarkCredentials(b *testing.B) {
	h := newHarness(b, "evt.type = setuid and evt.arg.uid = 0 and evt.res = SUCCESS")
	h.run(b, true, sys(b, "setuid", 0, [6]uint64{0}))
}

func BenchmarkMount(b *testing.B) {
	h := newHarness(b, "evt.type = mount and evt.arg.flags contains MS_BIND and evt.arg.dir startswith /mnt")
	h.run(b, true, sys(b, "mount", 0, [6]uint64{0, 0, 0, unix.MS_BIND | unix.MS_NOSUID}, "/proc", "/mnt/x", "", "none"))
}

func BenchmarkNetworkIO(b *testing.B) {
	h := newHarness(b, "evt.type = sendto and fd.typechar = 4 and fd.sport = 4444 and evt.arg.flags contains MSG_NOSIGNAL")
	h.run(b, true, sys(b, "sendto", 64, [6]uint64{3, 0, 64, unix.MSG_NOSIGNAL}, "", ""))
}

func BenchmarkReadWrite(b *testing.B) {
	h := newHarness(b, "evt.type in (read, write) and fd.num < 3 and fd.type = ipv4 and proc.stdin.type = ipv4")
	h.run(b, true, sys(b, "read", 5, [6]uint64{0, 0, 512}, ""), sys(b, "write", 5, [6]uint64{1, 0, 5}, ""))
}

func BenchmarkDup2(b *testing.B) {
	h := newHarness(b, "evt.type = dup2 and evt.arg.newfd startswith 2 and fd.type = ipv4")
	h.run(b, true, sys(b, "dup2", 2, [6]uint64{3, 2}), sys(b, "dup2", 2, [6]uint64{0, 2}))
}

func BenchmarkPipeClose(b *testing.B) {
	h := newHarness(b, "evt.type in (pipe2, close) and not fd.type = ipv4")
	fds := string([]byte{6, 0, 0, 0, 7, 0, 0, 0})
	h.run(b, true, sys(b, "pipe2", 0, [6]uint64{0, unix.O_CLOEXEC}, fds), sys(b, "close", 0, [6]uint64{6}), sys(b, "close", 0, [6]uint64{7}))
}

func BenchmarkMemfd(b *testing.B) {
	h := newHarness(b, "(evt.type = memfd_create and evt.arg.flags contains MFD_CLOEXEC or evt.type = close) and fd.type = memfd")
	h.run(b, true, sys(b, "memfd_create", 8, [6]uint64{0, unix.MFD_CLOEXEC}, "payload"), sys(b, "close", 0, [6]uint64{8}))
}

func BenchmarkKill(b *testing.B) {
	h := newHarness(b, "evt.type = kill and evt.arg.sig = SIGKILL")
	h.run(b, true, sys(b, "kill", 0, [6]uint64{777, 9}))
}

func BenchmarkBPF(b *testing.B) {
	h := newHarness(b, "(evt.type = bpf and evt.arg.cmd = BPF_PROG_LOAD or evt.type = close) and fd.type = bpf")
	h.run(b, true, sys(b, "bpf", 9, [6]uint64{5, 0, 128}), sys(b, "close", 0, [6]uint64{9}))
}

func BenchmarkForkExit(b *testing.B) {
	h := newHarness(b, "evt.type = procfork and proc.stdin.type = ipv4")
	fork := newRecord(wireFork, -1, 0).u32(pid + 1).u32(pid + 1).u32(0).u32(0).done()
	exit := newRecord(wireExit, -1, 0).u32(0).u32(0).done()
	le.PutUint32(exit[32:], pid+1)
	le.PutUint32(exit[36:], pid+1)
	le.PutUint32(exit[40:], pid)
	b.ReportAllocs()
	ts := uint64(2_000_000)
	for i := 0; b.Loop(); i++ {
		for _, rec := range [2][]byte{fork, exit} {
			h.ev.Reset()
			if err := decode.Decode(rec, h.ev); err != nil {
				b.Fatal(err)
			}
			ts += 1000
			h.ev.Timestamp = ts
			h.table.Apply(h.ev)
			h.ctx.Reset(h.env, h.ev, uint64(i))
			h.cond(&h.ctx)
		}
	}
}
