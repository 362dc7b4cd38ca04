package pipeline

import (
	"runtime"
	"sync/atomic"

	"github.com/vigilsec/vigil/internal/event"
)

// ring is a bounded lock-free queue for many producers and one consumer.
// Each cell carries a turn number saying who may use it next. Position pos
// maps to cell pos&mask, and with base = pos&^mask (the start of pos's lap
// round the ring) a producer may fill the cell when its turn is base, the
// consumer may empty it when the turn is base+1, and emptying hands it to
// the next lap with base+size. A fresh, zeroed ring is therefore ready to
// use, which spares initialising (and touching) every cell up front. A
// channel would do the same job under a mutex, which on the event path is
// the main cost.
//
// Closing sets a bit in tail, which makes every later claim fail; the
// positions claimed before it are exactly those below the tail it leaves,
// so the consumer knows where the last event is without counting
// producers in flight.
type ring struct {
	mask  uint64
	cells []cell
	_     [48]byte

	tail atomic.Uint64 // next position to claim, plus ringClosed; producers contend here
	_    [56]byte

	// Consumer side. next is private to the single consumer; head
	// mirrors it for Stats.
	next uint64
	head atomic.Uint64
	_    [48]byte
}

const ringClosed = 1 << 63

// cell is one queue slot. Only turn is atomic: the producer writes the
// rest before publishing turn and the consumer reads it after observing
// turn, so the atomics order the accesses.
type cell struct {
	turn atomic.Uint64
	item item
}

// item is a queued event plus the point another shard must have reached
// before the event may be handled (see Pipeline.Submit).
type item struct {
	ev        *event.Event
	afterPos  uint64 // 0: no condition
	afterShrd uint32
}

// newRing returns a ring holding at least n events: a power of two, and at
// least 2, because with a single cell "filled" and "free for the next lap"
// would be the same turn.
func newRing(n int) *ring {
	size := 2
	for size < n {
		size <<= 1
	}
	return &ring{mask: uint64(size - 1), cells: make([]cell, size)}
}

// push appends it. It fails if the ring is full or closed, and says which.
func (r *ring) push(it item) (ok, closed bool) {
	pos := r.tail.Load()
	for {
		if pos&ringClosed != 0 {
			return false, true
		}
		c := &r.cells[pos&r.mask]
		base := pos &^ r.mask
		switch d := int64(c.turn.Load() - base); {
		case d == 0:
			if r.tail.CompareAndSwap(pos, pos+1) {
				c.item = it
				c.turn.Store(base + 1)
				return true, false
			}
			pos = r.tail.Load()
		case d < 0:
			// The cell still holds the event from one lap ago: full.
			return false, false
		default:
			pos = r.tail.Load() // another producer claimed pos first
		}
	}
}

// close makes further pushes fail and returns the position after the last
// event that will ever be pushed.
func (r *ring) close() uint64 {
	return r.tail.Or(ringClosed) &^ ringClosed
}

// pop removes the oldest item. Only the consumer may call it.
func (r *ring) pop() (item, bool) {
	pos := r.next
	c := &r.cells[pos&r.mask]
	base := pos &^ r.mask
	if c.turn.Load() != base+1 {
		return item{}, false // empty, or the producer of pos has not finished
	}
	it := c.item
	c.item = item{}
	c.turn.Store(base + r.mask + 1) // free for the producer one lap ahead
	r.next = pos + 1
	r.head.Store(pos + 1)
	return it, true
}

// drainTo waits until everything below end has been popped, for a
// consumer that knows no more will come: a producer may have claimed a
// position and not yet filled it. fn gets each item.
func (r *ring) drainTo(end uint64, fn func(item)) {
	for r.next < end {
		if it, ok := r.pop(); ok {
			fn(it)
		} else {
			runtime.Gosched() // the producer is a few instructions from done
		}
	}
}

// submitted returns how many events were ever pushed.
func (r *ring) submitted() uint64 { return r.tail.Load() &^ ringClosed }

// len returns how many events are queued.
func (r *ring) len() int {
	t, h := r.submitted(), r.head.Load()
	if t < h {
		return 0
	}
	return int(t - h)
}
