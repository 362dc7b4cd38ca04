package proc

import "slices"

// Sweep removes entries whose process no longer exists under procRoot, or
// whose pid now belongs to a process that started at a different time. It
// reclaims entries whose exit event the kernel dropped. It returns how many
// entries it removed, also counted in Stats().Swept. If procRoot cannot be
// listed nothing is removed: an empty answer must not empty the table.
//
// Sweep reads /proc/<pid>/stat for every entry whose start time is known,
// so it costs a few syscalls per process and belongs on a timer, not in
// the event path.
func (t *Table) Sweep(procRoot string) (int, error) {
	// Snapshot the table before listing /proc: an entry that existed before
	// the listing and is missing from it is certainly dead, whereas one
	// created after the listing could belong to a process the listing
	// missed.
	var cands []Process
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		cands = sh.snapshot(cands)
		sh.mu.Unlock()
	}
	live, err := listPIDs(procRoot)
	if err != nil {
		return 0, err
	}
	off := bootOffset()

	var buf []byte
	dead := cands[:0] // filtered in place
	for _, p := range cands {
		if _, ok := slices.BinarySearch(live, p.PID); !ok {
			dead = append(dead, p)
			continue
		}
		if p.StartTime == 0 {
			continue
		}
		var b []byte
		b, _, err = readFile(buf, pidDir(procRoot, p.PID)+"/stat", maxStatFile)
		buf = b
		if err != nil {
			if vanished(err) {
				dead = append(dead, p)
			}
			continue // unreadable is not proof of death
		}
		if st, err := parseStat(b); err == nil && !sameStart(p.StartTime, st.StartTicks, off) {
			dead = append(dead, p)
		}
	}

	n := t.removeJudged(dead)
	t.swept.Add(uint64(n))
	return n, nil
}

// removeJudged removes the given entries unless they changed since they
// were judged dead: a fork or exec may have recreated the pid meanwhile,
// and the serial tells the two apart.
func (t *Table) removeJudged(dead []Process) int {
	n := 0
	for _, p := range dead {
		sh := t.shard(p.PID)
		sh.mu.Lock()
		if cur, ok := sh.lockedGet(p.PID); ok && cur.Serial == p.Serial {
			sh.remove(p.PID)
			n++
		}
		sh.mu.Unlock()
	}
	return n
}
