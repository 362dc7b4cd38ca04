package proc

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// pidIn returns the k-th pid that lands in shard 5.
func pidIn(k int) uint32 { return uint32(k)<<shardBits | 5 }

func newShard() *shard {
	sh := &shard{}
	sh.init(5)
	return sh
}

func (sh *shard) lockedPut(p Process) {
	sh.mu.Lock()
	sh.put(&p)
	sh.mu.Unlock()
}

func (sh *shard) lockedRemove(pid uint32) bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.remove(pid)
}

func (sh *shard) size() int { return len(sh.tab.Load().slots) }

func TestShardGrowsAndShrinks(t *testing.T) {
	sh := newShard()
	img := &Image{Comm: "x"}
	const n = 1000
	for k := 1; k <= n; k++ {
		sh.lockedPut(Process{PID: pidIn(k), PPID: uint32(k), Image: img})
	}
	if sh.live != n || sh.size() < 2*n {
		t.Fatalf("live %d size %d", sh.live, sh.size())
	}
	var p Process
	for k := 1; k <= n; k++ {
		if !sh.get(pidIn(k), &p) || p.PPID != uint32(k) || p.PID != pidIn(k) || p.Image != img {
			t.Fatalf("k=%d: %+v", k, p)
		}
	}
	if sh.get(pidIn(n+1), &p) {
		t.Fatal("found a pid never inserted")
	}
	// Remove every other entry, then the rest: lookups must keep working
	// across tombstones, and the table must shrink back.
	for k := 1; k <= n; k += 2 {
		if !sh.lockedRemove(pidIn(k)) {
			t.Fatalf("remove %d", k)
		}
	}
	for k := 2; k <= n; k += 2 {
		if !sh.get(pidIn(k), &p) {
			t.Fatalf("lost %d after removals", k)
		}
	}
	for k := 2; k <= n; k += 2 {
		sh.lockedRemove(pidIn(k))
	}
	if sh.live != 0 || sh.used != 0 || sh.size() != minSlots {
		t.Fatalf("after emptying: live %d used %d size %d", sh.live, sh.used, sh.size())
	}
	if sh.lockedRemove(pidIn(1)) {
		t.Fatal("removed a missing entry")
	}
}

func TestShardReplaceKeepsOneEntry(t *testing.T) {
	sh := newShard()
	sh.lockedPut(Process{PID: pidIn(1), PPID: 1})
	sh.lockedPut(Process{PID: pidIn(1), PPID: 2})
	var p Process
	if sh.live != 1 || !sh.get(pidIn(1), &p) || p.PPID != 2 {
		t.Fatalf("live %d, %+v", sh.live, p)
	}
}

// TestShardTombstonesDoNotAccumulate churns many distinct pids through a
// table holding a few long-lived ones, which exercises tombstones, the
// backward clean-up and in-place rebuilds, and checks that the table
// stays small and correct.
func TestShardTombstonesDoNotAccumulate(t *testing.T) {
	sh := newShard()
	for k := 1; k <= 5; k++ {
		sh.lockedPut(Process{PID: pidIn(k), PPID: 7})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	live := map[uint32]bool{}
	for i := 0; i < 50000; i++ {
		pid := pidIn(10 + rng.IntN(20))
		if live[pid] {
			sh.lockedRemove(pid)
			delete(live, pid)
		} else {
			sh.lockedPut(Process{PID: pid, PPID: 9})
			live[pid] = true
		}
	}
	var p Process
	for k := 1; k <= 5; k++ {
		if !sh.get(pidIn(k), &p) || p.PPID != 7 {
			t.Fatalf("long-lived entry %d lost", k)
		}
	}
	for k := 10; k < 30; k++ {
		if sh.get(pidIn(k), &p) != live[pidIn(k)] {
			t.Fatalf("entry %d: present=%v want %v", k, !live[pidIn(k)], live[pidIn(k)])
		}
	}
	if sh.live != 5+len(live) || sh.size() > 128 {
		t.Fatalf("live %d (want %d), size %d", sh.live, 5+len(live), sh.size())
	}
}

// TestShardConcurrentReaders checks the seqlock: while a writer churns
// entries (forcing growth, shrinking and in-place rebuilds) and rewrites
// the stable entries, readers must always find every stable entry and
// never see a half-written one.
func TestShardConcurrentReaders(t *testing.T) {
	sh := newShard()
	const stable = 50
	write := func(k int, gen uint64) {
		sh.lockedPut(Process{PID: pidIn(k), PPID: uint32(k), StartTime: gen, CgroupID: gen * 3, Serial: gen + uint64(k)})
	}
	for k := 1; k <= stable; k++ {
		write(k, 1)
	}

	var stop atomic.Bool
	var readers sync.WaitGroup
	for r := 0; r < 3; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			var p Process
			for !stop.Load() {
				for k := 1; k <= stable; k++ {
					if !sh.get(pidIn(k), &p) {
						t.Errorf("stable entry %d missed", k)
						return
					}
					if p.PPID != uint32(k) || p.CgroupID != p.StartTime*3 || p.Serial != p.StartTime+uint64(k) {
						t.Errorf("torn read of %d: %+v", k, p)
						return
					}
				}
			}
		}()
	}

	rng := rand.New(rand.NewPCG(3, 4))
	live := map[int]bool{}
	for i := 0; i < 30000; i++ {
		switch {
		case i%7 == 0:
			write(1+rng.IntN(stable), uint64(i))
		case i%3000 < 1500: // grow: mostly inserts
			k := 100 + rng.IntN(2000)
			sh.lockedPut(Process{PID: pidIn(k), PPID: 1})
			live[k] = true
		default: // shrink: mostly removals
			for k := range live {
				sh.lockedRemove(pidIn(k))
				delete(live, k)
				break
			}
		}
	}
	stop.Store(true)
	readers.Wait()
}
