package proc

import (
	"sync"
	"sync/atomic"
)

const (
	minSlots = 16 // per shard; 64 shards of 16 slots cost about 57 KiB
	// A table is rebuilt when live entries plus tombstones exceed 3/4 of
	// it, and sized so that live entries fill at most half of the result.
	maxLoadNum, maxLoadDen = 3, 4
)

// shard is one slot table plus the mutex its writers share. Counters that
// change with the table live under the same mutex, so the write path pays
// for no extra atomic traffic.
type shard struct {
	mu  sync.Mutex // serialises writers; readers never take it
	tab atomic.Pointer[slotTable]

	live    int // entries, under mu
	used    int // entries plus tombstones, under mu
	scratch []Process

	grave        [graveSlots]slot // see grave.go
	gravePos     uint32           // next grave slot to write, under mu
	gravePosHint atomic.Uint32    // gravePos for lock-free readers

	index   uint64 // this shard's number, mixed into serials
	serials uint64
	created uint64 // entries created by events
	execs   uint64
	exited  uint64

	// Keep neighbouring shards' hot words off each other's cache lines.
	_ [64]byte
}

func (sh *shard) init(index int) {
	sh.index = uint64(index)
	sh.tab.Store(newSlotTable(minSlots))
}

// get finds pid without locking and fills *p if found.
func (sh *shard) get(pid uint32, p *Process) bool {
	for spins := 0; ; spins++ {
		t := sh.tab.Load()
		gen := t.gen.Load()
		if gen&1 == 0 {
			ok := t.lookup(pid, p)
			if t.gen.Load() == gen {
				return ok
			}
		}
		backoff(spins)
	}
}

// The methods below require sh.mu.

// nextSerial hands out a serial. Serials from different shards never
// collide because the shard number fills the low bits.
func (sh *shard) nextSerial() uint64 {
	sh.serials++
	return sh.serials<<shardBits | sh.index
}

// lockedGet reads pid's entry as a writer.
func (sh *shard) lockedGet(pid uint32) (Process, bool) {
	if !validPID(pid) {
		return Process{}, false
	}
	t := sh.tab.Load()
	if i, ok := t.probe(pid); ok {
		return t.slots[i].load(), true
	}
	return Process{}, false
}

// put inserts or replaces p's entry.
func (sh *shard) put(p *Process) {
	if !validPID(p.PID) {
		return
	}
	t := sh.tab.Load()
	i, found := t.probe(p.PID)
	if !found {
		if t.slots[i].key.Load() == keyEmpty && (sh.used+1)*maxLoadDen > len(t.slots)*maxLoadNum {
			t = sh.rebuild(sh.live + 1)
			i, _ = t.probe(p.PID)
		}
		if t.slots[i].key.Load() == keyEmpty {
			sh.used++
		}
		sh.live++
	}
	t.slots[i].store(p)
}

// remove deletes pid's entry, reporting whether there was one.
func (sh *shard) remove(pid uint32) bool {
	if !validPID(pid) {
		return false
	}
	t := sh.tab.Load()
	i, found := t.probe(pid)
	if !found {
		return false
	}
	sh.live--
	sh.vacate(t, i)
	if len(t.slots) > minSlots && sh.live*8 < len(t.slots) {
		sh.rebuild(sh.live) // shrink after a burst
	}
	return true
}

// vacate clears slot i of t.
func (sh *shard) vacate(t *slotTable, i uint32) {
	// A tombstone is needed only if some probe sequence runs through this
	// slot to a later one; if the next slot is empty none does, and the
	// same then holds for tombstones just before it. Emptying them keeps
	// churn from filling the table with tombstones.
	if t.slots[(i+1)&t.mask].key.Load() != keyEmpty {
		t.slots[i].clear(keyTomb)
		return
	}
	t.slots[i].clear(keyEmpty)
	sh.used--
	for j := (i - 1) & t.mask; j != i && t.slots[j].key.Load() == keyTomb; j = (j - 1) & t.mask {
		t.slots[j].clear(keyEmpty)
		sh.used--
	}
}

// rebuild rehashes the live entries into a table sized for need entries
// and returns it. A table of a new size is published whole, so readers of
// the old one keep a consistent (if aging) view; a table of the same size
// is rewritten in place, under an odd gen that sends readers round again.
func (sh *shard) rebuild(need int) *slotTable {
	old := sh.tab.Load()
	size := minSlots
	for size < 2*need {
		size *= 2
	}
	sh.scratch = sh.scratch[:0]
	for i := range old.slots {
		if k := old.slots[i].key.Load(); k != keyEmpty && k != keyTomb {
			sh.scratch = append(sh.scratch, old.slots[i].load())
		}
	}
	t := old
	if size != len(old.slots) {
		t = newSlotTable(size)
	} else {
		t.gen.Add(1)
		for i := range t.slots {
			t.slots[i].clear(keyEmpty)
		}
	}
	for k := range sh.scratch {
		i, _ := t.probe(sh.scratch[k].PID)
		t.slots[i].store(&sh.scratch[k])
	}
	if t == old {
		t.gen.Add(1)
	} else {
		sh.tab.Store(t)
	}
	sh.used = len(sh.scratch)
	clear(sh.scratch) // do not pin Images
	return t
}

// snapshot appends every entry to dst, for the rare full scans.
func (sh *shard) snapshot(dst []Process) []Process {
	t := sh.tab.Load()
	for i := range t.slots {
		if k := t.slots[i].key.Load(); k != keyEmpty && k != keyTomb {
			dst = append(dst, t.slots[i].load())
		}
	}
	return dst
}
