package proc

import (
	"bytes"
	"fmt"
	"testing"
)

// FuzzParseStat checks that parseStat never panics and that whatever it
// accepts survives a round trip through the kernel's output format.
func FuzzParseStat(f *testing.F) {
	f.Add([]byte("1 (systemd) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 2 0 0\n"))
	f.Add([]byte("99 (a) (b) S 1 99 99 0 -1 0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseStat(data)
		if err != nil {
			return
		}
		if len(s.Comm) > len(data) {
			t.Fatalf("comm longer than the input")
		}
		line := fmt.Appendf(nil, "%d (%s) %s %d %d %d %d -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %d\n",
			s.PID, s.Comm, []byte{s.State}, s.PPID, s.PGID, s.SID, int32(s.TTY), s.StartTicks)
		again, err := parseStat(line)
		if err != nil {
			t.Fatalf("reformatted line %q rejected: %v", line, err)
		}
		if !bytes.Equal(again.Comm, s.Comm) {
			t.Fatalf("comm %q became %q", s.Comm, again.Comm)
		}
		if statNumbers(again) != statNumbers(s) {
			t.Fatalf("round trip %+v became %+v", s, again)
		}
	})
}

// FuzzParseStatus checks that the status parser never panics.
func FuzzParseStatus(f *testing.F) {
	f.Add([]byte("Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n"))
	f.Add([]byte("Uid:1\nGid:\n:\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseStatus(data)
	})
}

// FuzzShardOps runs random inserts, replacements and removals against one
// shard and a map, and checks that the two always agree: the open
// addressing, tombstones and rebuilds must never lose or invent an entry.
func FuzzShardOps(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 1, 1, 2, 2, 0, 1})
	f.Add([]byte{0, 1, 0, 17, 0, 33, 1, 17, 2, 33, 0, 49, 1, 1, 1, 33})
	f.Fuzz(func(t *testing.T, ops []byte) {
		sh := newShard()
		want := map[uint32]uint32{}
		var p Process
		for i := 0; i+1 < len(ops); i += 2 {
			pid := pidIn(1 + int(ops[i+1]%48))
			switch ops[i] % 3 {
			case 0:
				sh.lockedPut(Process{PID: pid, PPID: uint32(i)})
				want[pid] = uint32(i)
			case 1:
				_, had := want[pid]
				if sh.lockedRemove(pid) != had {
					t.Fatalf("op %d: remove(%d) disagrees with the map", i, pid)
				}
				delete(want, pid)
			case 2:
				ppid, had := want[pid]
				if sh.get(pid, &p) != had || (had && p.PPID != ppid) {
					t.Fatalf("op %d: get(%d) = %+v, map has %v %d", i, pid, p, had, ppid)
				}
			}
		}
		if sh.live != len(want) || sh.used > len(sh.tab.Load().slots) {
			t.Fatalf("live %d want %d, used %d of %d", sh.live, len(want), sh.used, len(sh.tab.Load().slots))
		}
		for k := 1; k <= 48; k++ {
			ppid, had := want[pidIn(k)]
			if sh.get(pidIn(k), &p) != had || (had && p.PPID != ppid) {
				t.Fatalf("final get(%d) disagrees with the map", pidIn(k))
			}
		}
	})
}
