package fanguard

import (
	"sync"
	"time"
)

// cacheKey names one file in one scope. The file's mtime and ctime are part
// of it so that a rewritten file, or a new file on a reused inode number, is
// decided again instead of inheriting the old verdict.
type cacheKey struct {
	kind         Kind
	dev, ino     uint64
	mtime, ctime int64
	scope        uint64
}

type cacheEntry struct {
	key        cacheKey
	allow      bool
	expires    int64 // unix nanoseconds
	prev, next int32 // LRU list by slot index; -1 ends it
}

// verdictCache is a bounded LRU of verdicts with a TTL. Slots are preallocated
// so that filling it allocates nothing once warm.
type verdictCache struct {
	mu         sync.Mutex
	ttl        time.Duration
	index      map[cacheKey]int32
	slots      []cacheEntry
	head, tail int32 // most and least recently used
	gen        uint64
}

func newVerdictCache(size int, ttl time.Duration) *verdictCache {
	return &verdictCache{
		ttl:   ttl,
		index: make(map[cacheKey]int32, size),
		slots: make([]cacheEntry, 0, size),
		head:  -1, tail: -1,
	}
}

// generation is read before a decision starts; put refuses results whose
// decision began before the last reset, since the rules they followed are
// gone.
func (c *verdictCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *verdictCache) get(k cacheKey, now time.Time) (allow, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.index[k]
	if !ok {
		return false, false
	}
	e := &c.slots[i]
	if now.UnixNano() >= e.expires {
		c.unlink(i)
		delete(c.index, k)
		c.pushFree(i)
		return false, false
	}
	c.unlink(i)
	c.pushFront(i)
	return e.allow, true
}

func (c *verdictCache) put(k cacheKey, allow bool, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	expires := now.Add(c.ttl).UnixNano()
	if i, ok := c.index[k]; ok {
		c.slots[i].allow, c.slots[i].expires = allow, expires
		c.unlink(i)
		c.pushFront(i)
		return
	}
	var i int32
	switch {
	case len(c.slots) < cap(c.slots):
		c.slots = append(c.slots, cacheEntry{})
		i = int32(len(c.slots) - 1)
	case c.tail >= 0 && c.slots[c.tail].expires != freeSlot:
		i = c.tail
		c.unlink(i)
		delete(c.index, c.slots[i].key)
	default:
		// The tail is a freed slot (expired entries are moved there).
		i = c.tail
		c.unlink(i)
	}
	c.slots[i] = cacheEntry{key: k, allow: allow, expires: expires, prev: -1, next: -1}
	c.index[k] = i
	c.pushFront(i)
}

// freeSlot marks a slot whose entry expired; free slots sit at the tail so
// they are reused before any live entry is evicted.
const freeSlot = -1

func (c *verdictCache) pushFree(i int32) {
	c.slots[i] = cacheEntry{expires: freeSlot, prev: c.tail, next: -1}
	if c.tail >= 0 {
		c.slots[c.tail].next = i
	} else {
		c.head = i
	}
	c.tail = i
}

func (c *verdictCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.index)
	c.slots = c.slots[:0]
	c.head, c.tail = -1, -1
	c.gen++
}

func (c *verdictCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.index)
}

func (c *verdictCache) unlink(i int32) {
	e := &c.slots[i]
	if e.prev >= 0 {
		c.slots[e.prev].next = e.next
	} else {
		c.head = e.next
	}
	if e.next >= 0 {
		c.slots[e.next].prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = -1, -1
}

func (c *verdictCache) pushFront(i int32) {
	e := &c.slots[i]
	e.prev, e.next = -1, c.head
	if c.head >= 0 {
		c.slots[c.head].prev = i
	} else {
		c.tail = i
	}
	c.head = i
}
