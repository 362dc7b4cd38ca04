package proc

// graveSlots is how many recently exited processes each shard remembers;
// 64 shards make about two thousand, which covers the events still in the
// pipeline when a process exits under any load short of dropping events.
const graveSlots = 32

// The graveyard exists because events are handled on several workers.
// A parent's exit can be applied by its worker before another worker
// handles its child's exec, which happened earlier; without a memory of
// the dead, that exec would have no parent, and a fork applied late would
// have no one to inherit from. The live table still forgets a process as
// soon as it exits, so its size follows the number of live processes, and
// the graveyard is a fixed ring that costs the same however many die.
//
// Graveyard slots are written under the shard mutex and read lock-free
// with the same seqlock as the live table.

// bury records p, which just left the live table, overwriting the oldest
// record. Callers hold sh.mu.
func (sh *shard) bury(p *Process) {
	sh.grave[sh.gravePos].store(p)
	sh.gravePos = (sh.gravePos + 1) % graveSlots
	sh.gravePosHint.Store(sh.gravePos)
}

// recent finds the most recently buried process with this pid and fills *p.
func (sh *shard) recent(pid uint32, p *Process) bool {
	if !validPID(pid) {
		return false
	}
	// Newest first: a pid that was reused and died twice is most likely
	// wanted for its latest life.
	start := sh.gravePosHint.Load()
	for n := uint32(0); n < graveSlots; n++ {
		s := &sh.grave[(start+graveSlots-1-n)%graveSlots]
		if s.key.Load() != pid {
			continue
		}
		for spins := 0; ; spins++ {
			seq := s.seq.Load()
			if seq&1 != 0 {
				backoff(spins)
				continue
			}
			if s.key.Load() != pid {
				break // overwritten while we looked
			}
			s.copyTo(pid, p)
			if s.seq.Load() == seq {
				return true
			}
		}
	}
	return false
}

// Exited returns the entry of a process that exited recently, as it was
// when it exited, for handlers of the exit event itself and of events
// that happened while it was alive but are handled after its exit. Only
// the last few thousand exits are remembered.
func (t *Table) Exited(pid uint32) (Process, bool) {
	var p Process
	if !t.shard(pid).recent(pid, &p) {
		return Process{PID: pid, Image: &emptyImage}, false
	}
	return p, true
}

// getOrRecent looks pid up among the living, then among the recently dead.
func (t *Table) getOrRecent(pid uint32, p *Process) bool {
	sh := t.shard(pid)
	return sh.get(pid, p) || sh.recent(pid, p)
}
