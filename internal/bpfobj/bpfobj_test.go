package bpfobj

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/vigilsec/vigil/internal/testutil"
)

func TestRingSize(t *testing.T) {
	page := os.Getpagesize()
	for _, c := range []struct{ in, want int }{
		{-1, page},
		{0, page},
		{1, page},
		{page - 1, page},
		{page, page},
		{page + 1, 2 * page},
		{3 << 20, 4 << 20},
		{256 << 10, 256 << 10},
		{8<<20 + 1, 16 << 20},
	} {
		if got := RingSize(c.in); got != c.want {
			t.Errorf("RingSize(%d) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestLinksZeroValue(t *testing.T) {
	var l Links
	if err := l.Close(); err != nil {
		t.Errorf("closing no links: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("closing twice: %v", err)
	}
}

// testRing returns a ring buffer map, a ring reading it with poll, and a
// function that writes one 8-byte record holding v into the map from a
// program the kernel runs (BPF_PROG_TEST_RUN).
func testRing(t *testing.T, poll time.Duration) (*Ring, func(v uint64)) {
	t.Helper()
	testutil.RequireBPF(t)
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.RingBuf, MaxEntries: uint32(RingSize(1))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	// bpf_skb_load_bytes(ctx, 0, fp-8, 8); bpf_ringbuf_output(m, fp-8, 8, 0)
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:    ebpf.SocketFilter,
		License: "GPL",
		Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R2, 0),
			asm.Mov.Reg(asm.R3, asm.RFP),
			asm.Add.Imm(asm.R3, -8),
			asm.Mov.Imm(asm.R4, 8),
			asm.FnSkbLoadBytes.Call(),
			asm.LoadMapPtr(asm.R1, m.FD()),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -8),
			asm.Mov.Imm(asm.R3, 8),
			asm.Mov.Imm(asm.R4, 0),
			asm.FnRingbufOutput.Call(),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return(),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prog.Close() })
	r, err := NewRing(m, poll)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	write := func(v uint64) {
		t.Helper()
		// An Ethernet header, which the test run strips, then v.
		pkt := binary.LittleEndian.AppendUint64(make([]byte, 14), v)
		if _, err := prog.Run(&ebpf.RunOptions{Data: pkt}); err != nil {
			t.Fatal(err)
		}
	}
	return r, write
}

// trace collects what Run's callbacks saw.
type trace struct {
	mu  sync.Mutex
	got []string
}

func (l *trace) add(s string) {
	l.mu.Lock()
	l.got = append(l.got, s)
	l.mu.Unlock()
}

func (l *trace) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.got, " ")
}

func (l *trace) record(b []byte) {
	if len(b) != 8 {
		l.add("short")
		return
	}
	l.add(string('0' + byte(binary.LittleEndian.Uint64(b))))
}

func (l *trace) idle() { l.add("idle") }

// waitFor polls until cond holds, failing after a few seconds.
func waitFor(t *testing.T, what func() string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what())
		}
	}
}

// waitPrefix waits until the callbacks seen start with want.
func (l *trace) waitPrefix(t *testing.T, want string) {
	t.Helper()
	what := func() string { return fmt.Sprintf("%q, seen %q", want, l.String()) }
	waitFor(t, what, func() bool { return strings.HasPrefix(l.String(), want) })
}

func TestRingRecordsInOrderThenIdle(t *testing.T) {
	r, write := testRing(t, 0)
	for v := range uint64(3) {
		write(v + 1)
	}
	var l trace
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background(), l.record, l.idle) }()
	l.waitPrefix(t, "1 2 3 idle")
	write(4)
	l.waitPrefix(t, "1 2 3 idle 4 idle")
	if err := r.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	select {
	case <-r.runDone:
	default:
		t.Error("Close returned before Run did")
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestRingStopsOnContext(t *testing.T) {
	r, _ := testRing(t, 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, func([]byte) {}, nil) }()
	time.Sleep(20 * time.Millisecond) // let Run block in its read
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run still blocked after its context was cancelled")
	}
}

func TestRingClosedBeforeRun(t *testing.T) {
	r, write := testRing(t, 0)
	write(1)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	var l trace
	if err := r.Run(context.Background(), l.record, l.idle); err != nil {
		t.Errorf("Run after Close: %v", err)
	}
	if got := l.String(); got != "" {
		t.Errorf("Run after Close saw %q", got)
	}
}

func TestRingRunTwice(t *testing.T) {
	r, _ := testRing(t, 0)
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background(), func([]byte) {}, nil) }()
	waitFor(t, func() string { return "Run to start" }, r.running.Load)
	if err := r.Run(context.Background(), func([]byte) {}, nil); err == nil || err.Error() != "Run called twice" {
		t.Errorf("second Run: %v, want Run called twice", err)
	}
	if err := r.Close(); err != nil {
		t.Error(err)
	}
	if err := <-done; err != nil {
		t.Errorf("first Run: %v", err)
	}
}

// TestRingPoll checks the ticker: with poll set, an idle ring still calls
// idle, which is how the sensor hands off a small batch.
func TestRingPoll(t *testing.T) {
	r, _ := testRing(t, 10*time.Millisecond)
	var l trace
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background(), l.record, l.idle) }()
	l.waitPrefix(t, "idle idle")
	if err := r.Close(); err != nil {
		t.Error(err)
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestLoadReportsVerifierLog(t *testing.T) {
	testutil.RequireBPF(t)
	spec := &ebpf.CollectionSpec{
		Programs: map[string]*ebpf.ProgramSpec{
			// Returns without setting r0: the verifier refuses.
			"bad": {Name: "bad", Type: ebpf.SocketFilter, License: "GPL", Instructions: asm.Instructions{asm.Return()}},
		},
	}
	var objs struct {
		Bad *ebpf.Program `ebpf:"bad"`
	}
	err := Load(spec, &objs, "test")
	if err == nil {
		_ = objs.Bad.Close() // failing anyway: the program should not exist
		t.Fatal("the verifier accepted a program that returns nothing")
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "kernel verifier rejected the test programs: ") || !strings.Contains(msg, "R0 !read_ok") {
		t.Errorf("error %q lacks the verifier's log", msg)
	}
}

func TestAttachRawTracepointError(t *testing.T) {
	testutil.RequireBPF(t)
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type: ebpf.RawTracepoint, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	var l Links
	err = l.AttachRawTracepoint("vigil_no_such_tracepoint", prog)
	if err == nil || !strings.HasPrefix(err.Error(), "attach raw tracepoint vigil_no_such_tracepoint: ") {
		t.Errorf("attach to a missing tracepoint: %v", err)
	}
	if len(l) != 0 {
		t.Errorf("%d links kept after a failed attach", len(l))
	}
	if err := l.AttachRawTracepoint("sys_enter", prog); err != nil {
		t.Fatal(err)
	}
	if len(l) != 1 {
		t.Fatalf("%d links after one attach", len(l))
	}
	if err := l.Close(); err != nil || len(l) != 0 {
		t.Errorf("close: %v, %d links left", err, len(l))
	}
}
