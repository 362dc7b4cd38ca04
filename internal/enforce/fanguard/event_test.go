package fanguard

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// record builds one fanotify_event_metadata record with extra info bytes.
func record(vers uint8, metaLen uint16, mask uint64, fd, pid int32, extra int) []byte {
	b := make([]byte, metadataLen+extra)
	binary.NativeEndian.PutUint32(b[0:4], uint32(len(b)))
	b[4] = vers
	binary.NativeEndian.PutUint16(b[6:8], metaLen)
	binary.NativeEndian.PutUint64(b[8:16], mask)
	binary.NativeEndian.PutUint32(b[16:20], uint32(fd))
	binary.NativeEndian.PutUint32(b[20:24], uint32(pid))
	return b
}

func TestNextEvent(t *testing.T) {
	v := uint8(unix.FANOTIFY_METADATA_VERSION)
	buf := append(record(v, metadataLen, unix.FAN_OPEN_EXEC_PERM, 7, 42, 0),
		record(v, metadataLen, unix.FAN_OPEN_PERM, 8, 43, 16)...) // with an info record to skip
	ev, rest, err := nextEvent(buf, 0)
	if err != nil || ev != (rawEvent{mask: unix.FAN_OPEN_EXEC_PERM, fd: 7, pid: 42}) || len(rest) != metadataLen+16 {
		t.Fatalf("first record: %+v, %d left, %v", ev, len(rest), err)
	}
	ev, rest, err = nextEvent(rest, metadataLen)
	if err != nil || ev != (rawEvent{mask: unix.FAN_OPEN_PERM, fd: 8, pid: 43}) || len(rest) != 0 {
		t.Fatalf("second record: %+v, %d left, %v", ev, len(rest), err)
	}

	bad := map[string][]byte{
		"short":         buf[:10],
		"version":       record(v+1, metadataLen, 0, 1, 1, 0),
		"metadata_len":  record(v, 8, 0, 1, 1, 0),
		"event_len big": func() []byte { b := record(v, metadataLen, 0, 1, 1, 0); b[0] = 200; return b }(),
		"event_len < metadata_len": func() []byte {
			b := record(v, metadataLen+8, 0, 1, 1, 0)
			return b
		}(),
	}
	for name, b := range bad {
		_, _, err := nextEvent(b, 48)
		if err == nil || !strings.Contains(err.Error(), "offset 48") {
			t.Errorf("%s: err = %v, want an error naming offset 48", name, err)
		}
	}
}

func TestKindOf(t *testing.T) {
	for mask, want := range map[uint64]Kind{
		unix.FAN_OPEN_EXEC_PERM:                      Exec,
		unix.FAN_OPEN_PERM:                           Open,
		unix.FAN_OPEN_PERM | unix.FAN_OPEN_EXEC_PERM: Exec,
	} {
		if k, ok := kindOf(mask); !ok || k != want {
			t.Errorf("kindOf(%#x) = %v, %v; want %v", mask, k, ok, want)
		}
	}
	if _, ok := kindOf(unix.FAN_OPEN); ok {
		t.Error("FAN_OPEN taken for a permission event")
	}
}

// TestKernelOverflowRecord feeds a guard the overflow record the kernel
// sends when its queue is full: it is counted and reported, nothing answered.
func TestKernelOverflowRecord(t *testing.T) {
	requireRoot(t)
	var fails failures
	g, err := New(Config{Decide: func(*Request) Verdict { return Verdict{} }, OnFailure: fails.add})
	if err != nil {
		t.Fatal(err)
	}
	buf := record(unix.FANOTIFY_METADATA_VERSION, metadataLen, unix.FAN_Q_OVERFLOW, unix.FAN_NOFD, 0, 0)
	buf = append(buf, record(unix.FANOTIFY_METADATA_VERSION, metadataLen, unix.FAN_OPEN_PERM, unix.FAN_NOFD, 0, 0)...)
	if err := g.handleBuffer(buf, time.Now()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the overflow report", func() bool { return len(fails.get()) == 1 })
	if f := fails.get()[0]; f.Reason != KernelOverflow || f.Request != nil {
		t.Errorf("failure %+v", f)
	}
	if err := g.handleBuffer(buf[:30], time.Now()); err == nil {
		t.Error("a truncated record was accepted")
	}
	if err := g.Close(); err != nil {
		t.Error(err)
	}
	st := g.Stats()
	want := Stats{KernelOverflows: 2, Ignored: 1} // the truncated buffer still held one whole overflow record
	if !sameCounts(st, want) {
		t.Errorf("stats %+v, want %+v", counts(st), counts(want))
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var c counters
	for range 98 {
		c.observe(40 * time.Microsecond) // bucket (25, 50]
	}
	c.observe(3 * time.Millisecond) // (2500, 5000]
	c.observe(2 * time.Second)      // past the last bound
	h := c.snapshot().Latency
	if h.Count != 100 || h.Cumulative[0] != 0 || h.Cumulative[3] != 98 || h.Cumulative[len(h.Cumulative)-1] != 99 {
		t.Fatalf("histogram %+v", h)
	}
	if want := 98*40.0 + 3000 + 2e6; h.SumMicros != want {
		t.Errorf("sum %v µs, want %v", h.SumMicros, want)
	}
	if p50 := h.P50(); p50 <= 25*time.Microsecond || p50 > 50*time.Microsecond {
		t.Errorf("p50 %v outside its bucket (25µs, 50µs]", p50)
	}
	if p99 := h.P99(); p99 <= 2500*time.Microsecond || p99 > 5*time.Millisecond {
		t.Errorf("p99 %v outside its bucket (2.5ms, 5ms]", p99)
	}
	if q := h.Quantile(1); q != time.Second {
		t.Errorf("max %v, want the last bound 1s", q)
	}
	if (Histogram{}).P99() != 0 {
		t.Error("empty histogram has a p99")
	}
}

// FuzzNextEvent walks arbitrary buffers: no panic, every record consumed is
// at least a metadata header long, and the walk always ends.
func FuzzNextEvent(f *testing.F) {
	v := uint8(unix.FANOTIFY_METADATA_VERSION)
	f.Add(record(v, metadataLen, unix.FAN_OPEN_EXEC_PERM, 5, 100, 0))
	f.Add(append(record(v, metadataLen, unix.FAN_Q_OVERFLOW, -1, 0, 0), record(v, metadataLen, unix.FAN_OPEN_PERM, 6, 7, 8)...))
	f.Add(record(v+1, metadataLen, 0, 0, 0, 0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, buf []byte) {
		off := 0
		for len(buf) > 0 {
			_, rest, err := nextEvent(buf, off)
			if err != nil {
				if rest != nil {
					t.Fatal("error with a rest")
				}
				return
			}
			used := len(buf) - len(rest)
			if used < metadataLen {
				t.Fatalf("record of %d bytes accepted", used)
			}
			off += used
			buf = rest
		}
	})
}
