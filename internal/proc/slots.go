package proc

import (
	"runtime"
	"sync/atomic"
)

// The read side of the table is lock-free: each shard is an open-addressing
// hash table whose slots are guarded by sequence counters (a seqlock, as in
// the kernel). A reader retries if it saw a slot, or the whole table, while
// a writer was changing it. Every field is an atomic, so readers never race
// with writers in the memory-model sense, and on amd64 and arm64 atomic
// loads are plain loads: a lookup costs no more than reading the fields.

// Slot keys. Pid 0 is the idle task and 0xffffffff is far above PID_MAX_LIMIT,
// so neither collides with a real process; events claiming either are
// refused rather than allowed to corrupt the table.
const (
	keyEmpty uint32 = 0         // ends a probe sequence
	keyTomb  uint32 = 1<<32 - 1 // a removed entry; probes continue past it
)

// validPID reports whether pid can be stored.
func validPID(pid uint32) bool { return pid != keyEmpty && pid != keyTomb }

// slot holds one entry. seq is odd while a writer is changing the slot.
type slot struct {
	seq    atomic.Uint64
	key    atomic.Uint32
	ppid   atomic.Uint32
	serial atomic.Uint64
	start  atomic.Uint64
	cgroup atomic.Uint64
	seeded atomic.Bool
	img    atomic.Pointer[Image]
	files  atomic.Pointer[Files]
}

// copyTo reads the slot's fields into p. The caller checks the slot's
// sequence number around it, since writers may change the slot meanwhile.
func (s *slot) copyTo(pid uint32, p *Process) {
	p.PID = pid
	p.PPID = s.ppid.Load()
	p.Serial = s.serial.Load()
	p.StartTime = s.start.Load()
	p.CgroupID = s.cgroup.Load()
	p.Seeded = s.seeded.Load()
	p.Image = s.img.Load()
	p.Files = s.files.Load()
}

// slotTable is a power-of-two array of slots probed linearly. gen is odd
// while the table is rebuilt in place, which moves entries between slots.
type slotTable struct {
	gen   atomic.Uint64
	shift uint32 // 32 - log2(len(slots)), for Fibonacci hashing
	mask  uint32
	slots []slot
}

func newSlotTable(size int) *slotTable {
	bits := uint32(0)
	for 1<<bits < size {
		bits++
	}
	return &slotTable{shift: 32 - bits, mask: 1<<bits - 1, slots: make([]slot, 1<<bits)}
}

// home is where pid's probe sequence starts. The low pid bits chose the
// shard already, so they are dropped before hashing.
func (t *slotTable) home(pid uint32) uint32 {
	return ((pid >> shardBits) * 0x9e3779b1) >> t.shift & t.mask
}

// lookup finds pid without locking and fills *p. What it reports is what
// the slot held at some instant during the call, unless the table was
// rebuilt meanwhile, which the caller detects through gen. Filling the
// caller's Process rather than returning one saves copying it through
// every layer of the call.
func (t *slotTable) lookup(pid uint32, p *Process) bool {
	if !validPID(pid) {
		return false
	}
	i := t.home(pid)
	for n := uint32(0); n <= t.mask; n++ {
		s := &t.slots[i]
		for spins := 0; ; spins++ {
			seq := s.seq.Load()
			k := s.key.Load()
			if k != pid {
				// Another key, even one being written, cannot be pid's
				// entry; an empty slot means pid was not inserted before
				// the moment we looked.
				if k == keyEmpty {
					return false
				}
				break
			}
			if seq&1 != 0 {
				backoff(spins)
				continue
			}
			s.copyTo(pid, p)
			if s.seq.Load() == seq {
				return true
			}
		}
		i = (i + 1) & t.mask
	}
	return false
}

// backoff yields once a writer has kept a slot busy for a while: it may
// have been preempted mid-update, and spinning would only delay it.
func backoff(spins int) {
	if spins > 32 {
		runtime.Gosched()
	}
}

// The methods below are for writers, which hold the shard's mutex.

// probe returns pid's slot if present, else the first slot an insert
// of pid may use (a tombstone or the empty slot that ended the probe).
func (t *slotTable) probe(pid uint32) (idx uint32, found bool) {
	free := int64(-1)
	i := t.home(pid)
	for n := uint32(0); n <= t.mask; n++ {
		switch k := t.slots[i].key.Load(); k {
		case pid:
			return i, true
		case keyEmpty:
			if free < 0 {
				free = int64(i)
			}
			return uint32(free), false
		case keyTomb:
			if free < 0 {
				free = int64(i)
			}
		}
		i = (i + 1) & t.mask
	}
	// Full of tombstones and other keys: callers rebuild before this can
	// happen, so free is a tombstone here.
	return uint32(max(free, 0)), false
}

// load reads a slot as its writer, who needs no seqlock.
func (s *slot) load() Process {
	return Process{
		PID:       s.key.Load(),
		PPID:      s.ppid.Load(),
		Serial:    s.serial.Load(),
		StartTime: s.start.Load(),
		CgroupID:  s.cgroup.Load(),
		Seeded:    s.seeded.Load(),
		Image:     s.img.Load(),
		Files:     s.files.Load(),
	}
}

// store publishes p in the slot. Atomic stores are full barriers on
// amd64 and cost far more than loads, so fields that already hold the
// right value (usually most of them: an exec changes the Image, a
// reparent only PPID) are left alone.
func (s *slot) store(p *Process) {
	s.seq.Add(1)
	if s.key.Load() != p.PID {
		s.key.Store(p.PID)
	}
	if s.ppid.Load() != p.PPID {
		s.ppid.Store(p.PPID)
	}
	if s.serial.Load() != p.Serial {
		s.serial.Store(p.Serial)
	}
	if s.start.Load() != p.StartTime {
		s.start.Store(p.StartTime)
	}
	if s.cgroup.Load() != p.CgroupID {
		s.cgroup.Store(p.CgroupID)
	}
	if s.seeded.Load() != p.Seeded {
		s.seeded.Store(p.Seeded)
	}
	if s.img.Load() != p.Image {
		s.img.Store(p.Image)
	}
	if s.files.Load() != p.Files {
		s.files.Store(p.Files)
	}
	s.seq.Add(1)
}

// clear empties the slot, marking it with key (keyTomb or keyEmpty), and
// drops the Image and Files references so the garbage collector can have
// them.
func (s *slot) clear(key uint32) {
	s.seq.Add(1)
	s.key.Store(key)
	s.img.Store(nil)
	s.files.Store(nil)
	s.seq.Add(1)
}
