package transport

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func msgs(from, n int, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		b := []byte(fmt.Sprintf("%08d", from+i))
		for len(b) < size {
			b = append(b, 'x')
		}
		out[i] = b
	}
	return out
}

// drainAll reads and commits everything, in batches of k.
func drainAll(t *testing.T, s *Spool, k int) []string {
	t.Helper()
	var got []string
	for {
		m, err := s.Peek(k)
		if err != nil {
			t.Fatal(err)
		}
		if len(m) == 0 {
			return got
		}
		for _, b := range m {
			got = append(got, string(b[:8]))
		}
		s.Commit(m)
	}
}

func TestSpoolOrderAndReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i += 10 {
		if _, err := s.Append(msgs(i, 10, 1000)); err != nil {
			t.Fatal(err)
		}
	}
	// Read and send 35, then "crash" (close) and reopen: 65 remain, in order.
	got := 0
	for got < 35 {
		m, _ := s.Peek(min(7, 35-got))
		s.Commit(m)
		got += len(m)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 65 {
		t.Fatalf("after reopen %d unread, want 65", s.Len())
	}
	if _, err := s.Append(msgs(100, 5, 1000)); err != nil {
		t.Fatal(err)
	}
	rest := drainAll(t, s, 9)
	if len(rest) != 70 || rest[0] != "00000035" || rest[69] != "00000104" {
		t.Fatalf("drained %d: first %v last %v", len(rest), rest[:1], rest[len(rest)-1:])
	}
	for i := 1; i < len(rest); i++ {
		if rest[i] <= rest[i-1] {
			t.Fatalf("out of order at %d: %s after %s", i, rest[i], rest[i-1])
		}
	}
	if st := s.Stats(); st.Records != 0 || st.Dropped != 0 {
		t.Errorf("stats after drain %+v", st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSpoolBound: past the bound the oldest go first, are counted, and
// what is left is the newest, in order.
func TestSpoolBound(t *testing.T) {
	s, err := OpenSpool(t.TempDir(), 1<<20) // segments of 128 KiB
	if err != nil {
		t.Fatal(err)
	}
	var dropped int64
	for i := 0; i < 3000; i += 100 {
		n, err := s.Append(msgs(i, 100, 1000)) // 3 MB in all
		if err != nil {
			t.Fatal(err)
		}
		dropped += n
	}
	st := s.Stats()
	if st.Bytes > 1<<20 || dropped == 0 || uint64(dropped) != st.Dropped || st.Records+dropped != 3000 {
		t.Fatalf("stats %+v dropped %d", st, dropped)
	}
	got := drainAll(t, s, 50)
	if int64(len(got)) != st.Records || got[len(got)-1] != "00002999" || got[0] != fmt.Sprintf("%08d", dropped) {
		t.Fatalf("kept %d (%s..%s), dropped %d", len(got), got[0], got[len(got)-1], dropped)
	}
}

// TestSpoolTornTail: a record cut short by a crash ends the segment; the
// whole ones before it are kept.
func TestSpoolTornTail(t *testing.T) {
	dir := t.TempDir()
	s, _ := OpenSpool(dir, 1<<20)
	if _, err := s.Append(msgs(0, 10, 100)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*"))
	f, _ := os.OpenFile(segs[0], os.O_WRONLY|os.O_APPEND, 0)
	if _, err := f.Write([]byte{200, 0, 0, 0, 1, 2, 3}); err != nil { // a header promising 200 bytes, then nothing
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := OpenSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if got := drainAll(t, s, 4); len(got) != 10 {
		t.Fatalf("kept %d of 10 whole records", len(got))
	}
}
