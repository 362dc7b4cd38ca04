package proc

import (
	"math/rand/v2"
	"testing"
)

type fdModel struct {
	e       *FD
	cloexec bool
}

// checkSet compares a set with a model map: lookups, size, counts and
// iteration order.
func checkSet(t testing.TB, s fdSet, want map[int32]fdModel) {
	t.Helper()
	if int(s.n) != len(want) {
		t.Fatalf("set has %d fds, model %d", s.n, len(want))
	}
	nc := 0
	for fd, m := range want {
		e, c, ok := s.get(fd)
		if !ok || e != m.e || c != m.cloexec {
			t.Fatalf("fd %d: got %p %v %v, want %p %v", fd, e, c, ok, m.e, m.cloexec)
		}
		if c {
			nc++
		}
	}
	if int(s.nCloexec) != nc {
		t.Fatalf("nCloexec %d, want %d", s.nCloexec, nc)
	}
	last, n := int32(-1), 0
	s.each(func(fd int32, e *FD, c bool) bool {
		if fd <= last || want[fd].e != e || want[fd].cloexec != c {
			t.Fatalf("each: fd %d after %d (%p %v)", fd, last, e, c)
		}
		last, n = fd, n+1
		return true
	})
	if n != len(want) {
		t.Fatalf("each visited %d of %d", n, len(want))
	}
}

func TestFDSetAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	entries := []*FD{{Type: FDFile}, {Type: FDPipe}, {Type: FDIPv4}}
	var s fdSet
	want := map[int32]fdModel{}
	// fds drawn from a few ranges so that the trie grows several levels.
	pick := func() int32 {
		switch r.IntN(4) {
		case 0:
			return int32(r.IntN(20))
		case 1:
			return int32(r.IntN(300))
		case 2:
			return int32(r.IntN(70000))
		}
		return int32(r.Uint32() >> 1)
	}
	for i := range 20000 {
		fd := pick()
		if r.IntN(3) == 0 {
			s = s.with(fd, nil, false)
			delete(want, fd)
		} else {
			m := fdModel{entries[r.IntN(len(entries))], r.IntN(2) == 0}
			s = s.with(fd, m.e, m.cloexec)
			want[fd] = m
		}
		if i%500 == 0 {
			checkSet(t, s, want)
		}
		if r.IntN(1000) == 0 {
			s = s.withoutCloexec()
			for fd, m := range want {
				if m.cloexec {
					delete(want, fd)
				}
			}
		}
	}
	checkSet(t, s, want)
	for fd := range want {
		s = s.with(fd, nil, false)
	}
	if s.n != 0 || s.root.used != 0 {
		t.Fatalf("emptied set still holds nodes: n=%d root %+v", s.n, s.root)
	}
}

func TestFDSetIsPersistent(t *testing.T) {
	a := &FD{Type: FDFile, Name: "/a"}
	var s0 fdSet
	s1 := s0.with(3, a, true)
	s2 := s1.with(300, a, false)
	s3 := s2.with(3, nil, false)
	if _, _, ok := s0.get(3); ok {
		t.Error("s0 changed")
	}
	if e, c, ok := s1.get(3); !ok || e != a || !c {
		t.Error("s1 lost fd 3")
	}
	if _, _, ok := s1.get(300); ok {
		t.Error("s1 gained fd 300")
	}
	if _, _, ok := s3.get(3); ok || s3.n != 1 {
		t.Errorf("s3: fd 3 still there or n=%d", s3.n)
	}
	if _, _, ok := s2.get(3); !ok {
		t.Error("s2 lost fd 3 when s3 removed it")
	}
	for _, fd := range []int32{-1, -100} {
		if _, _, ok := s2.get(fd); ok {
			t.Errorf("negative fd %d found", fd)
		}
		if s := s2.with(fd, a, false); s.n != s2.n {
			t.Errorf("negative fd %d stored", fd)
		}
	}
	big := s0.with(1<<31-1, a, false)
	if e, _, ok := big.get(1<<31 - 1); !ok || e != a || big.depth != fdMaxDepth {
		t.Errorf("largest fd: ok=%v depth=%d", ok, big.depth)
	}
}

// FuzzFDSet runs random stores and removals against a map.
func FuzzFDSet(f *testing.F) {
	f.Add([]byte{0, 3, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{255, 255, 255, 127, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		e := &FD{}
		var s fdSet
		want := map[int32]fdModel{}
		for i := 0; i+4 < len(ops); i += 5 {
			fd := int32(uint32(ops[i+1]) | uint32(ops[i+2])<<8 | uint32(ops[i+3]&0x7f)<<16 | uint32(ops[i+4]&0x7f)<<24)
			switch ops[i] % 3 {
			case 0:
				s = s.with(fd, e, ops[i]&4 != 0)
				want[fd] = fdModel{e, ops[i]&4 != 0}
			case 1:
				s = s.with(fd, nil, false)
				delete(want, fd)
			case 2:
				s = s.withoutCloexec()
				for k, m := range want {
					if m.cloexec {
						delete(want, k)
					}
				}
			}
		}
		checkSet(t, s, want)
	})
}
