package proc

import "sync/atomic"

const (
	shardBits = 6
	numShards = 1 << shardBits // pids are dense and sequential, so low bits spread well
)

// Table is the concurrent process table. Create it with New; all methods
// are safe for concurrent use.
type Table struct {
	shards [numShards]shard

	seeded     atomic.Uint64
	seedErrors atomic.Uint64
	swept      atomic.Uint64
	fdDropped  atomic.Uint64 // fds left out because a process had MaxFDsPerProcess
	fdInexact  atomic.Uint64 // forks whose parent's fd history no longer reached the fork

	// noFDs turns fd tracking off: copying every opened path into the
	// table costs more than the rest of an open event, so agents whose
	// rules never read fd state skip it.
	noFDs atomic.Bool
}

// SetTrackFDs turns per-process fd tracking on (the default) or off. Off,
// open, socket and descriptor events leave the fd tables alone; it should be
// chosen before Seed and before events flow.
func (t *Table) SetTrackFDs(on bool) { t.noFDs.Store(!on) }

// New returns an empty table.
func New() *Table {
	t := &Table{}
	for i := range t.shards {
		t.shards[i].init(i)
	}
	return t
}

func (t *Table) shard(pid uint32) *shard {
	return &t.shards[pid&(numShards-1)]
}

// Get returns the entry for pid. It takes no lock and does not allocate.
// On a miss it returns false and a Process whose Image is empty (never nil).
func (t *Table) Get(pid uint32) (Process, bool) {
	var p Process
	if !t.shard(pid).get(pid, &p) {
		return Process{PID: pid, Image: &emptyImage}, false
	}
	return p, true
}

// Len returns the number of entries.
func (t *Table) Len() int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		n += sh.live
		sh.mu.Unlock()
	}
	return n
}

// Stats are the table's counters since New.
type Stats struct {
	Entries    int    // current number of entries
	Seeded     uint64 // entries created from /proc
	Created    uint64 // entries created by fork or by an exec for an unknown pid
	Execs      uint64 // successful execs applied
	Exited     uint64 // entries removed by exit events
	Swept      uint64 // entries removed by Sweep
	SeedErrors uint64 // unexpected errors while reading /proc (vanished processes are not errors)

	FDs         int    // fds in the tables of live processes
	FDsDropped  uint64 // new fds left out of a table that held MaxFDsPerProcess
	FDForkStale uint64 // forks that inherited a later state of the parent's fds than the fork's
}

// Stats returns a snapshot of the counters.
func (t *Table) Stats() Stats {
	s := Stats{
		Seeded:      t.seeded.Load(),
		SeedErrors:  t.seedErrors.Load(),
		Swept:       t.swept.Load(),
		FDsDropped:  t.fdDropped.Load(),
		FDForkStale: t.fdInexact.Load(),
	}
	var procs []Process
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		s.Entries += sh.live
		s.Created += sh.created
		s.Execs += sh.execs
		s.Exited += sh.exited
		procs = sh.snapshot(procs[:0])
		sh.mu.Unlock()
		// Counting fds walks no table: each version knows its size.
		for k := range procs {
			s.FDs += procs[k].Files.Current().Len()
		}
	}
	clear(procs)
	return s
}
