package pipeline

import "github.com/vigilsec/vigil/internal/event"

// ShardStats are one shard's counters. Submitted counts events accepted
// into the queue, Dropped those refused (queue full or pipeline closed) or
// discarded by a Close without Start; every event given to Submit is in
// exactly one of the two.
type ShardStats struct {
	Submitted  uint64
	Processed  uint64
	Dropped    uint64
	QueueDepth int
	QueueCap   int
	// FullWaits counts submissions that found the queue full and waited
	// for room (Config.FullWait); those that still found none are in
	// Dropped as well.
	FullWaits uint64
}

// Stats is a snapshot of the pipeline's counters. Counters are read one by
// one while events flow, so totals may be off by the events in transit;
// once Close has returned they are exact.
type Stats struct {
	Shards        []ShardStats
	Submitted     uint64
	Processed     uint64
	Dropped       uint64
	FullWaits     uint64
	QueueDepth    int
	DroppedByKind map[event.Kind]uint64 // only kinds with drops
}

// Stats returns the current counters. It allocates and is meant for
// periodic reporting, not the event path.
func (p *Pipeline) Stats() Stats {
	st := Stats{
		Shards:        make([]ShardStats, len(p.shards)),
		DroppedByKind: make(map[event.Kind]uint64),
	}
	for i := range p.shards {
		s := &p.shards[i]
		ss := ShardStats{
			Submitted:  s.r.submitted(),
			Processed:  s.handled.Load(),
			QueueDepth: s.r.len(),
			QueueCap:   len(s.r.cells),
			FullWaits:  s.fullWaits.Load(),
		}
		for k := range s.dropped {
			if n := s.dropped[k].Load(); n != 0 {
				ss.Dropped += n
				st.DroppedByKind[event.Kind(k)] += n
			}
		}
		st.Shards[i] = ss
		st.Submitted += ss.Submitted
		st.Processed += ss.Processed
		st.Dropped += ss.Dropped
		st.FullWaits += ss.FullWaits
		st.QueueDepth += ss.QueueDepth
	}
	return st
}
