package compile

// smallSet is the size up to which a set is scanned rather than hashed:
// for the handful of items most Falco lists have, comparing beats hashing.
const smallSet = 8

// valueSet is an immutable set of values built at compile time.
type valueSet[T comparable] struct {
	small []T
	big   map[T]struct{}
}

func newValueSet[T comparable](items []T) *valueSet[T] {
	s := &valueSet[T]{}
	if len(items) <= smallSet {
		s.small = items
		return s
	}
	s.big = make(map[T]struct{}, len(items))
	for _, it := range items {
		s.big[it] = struct{}{}
	}
	return s
}

func (s *valueSet[T]) has(v T) bool {
	if s.big != nil {
		_, ok := s.big[v]
		return ok
	}
	for _, it := range s.small {
		if it == v {
			return true
		}
	}
	return false
}

// stringSet is a set of strings for `in` and `intersects`. Most lookups a
// rule makes miss (a benign program is in no suspicious list), so a big
// set keeps a 256-bit filter on each item's length and end bytes in front
// of its map: a miss then usually costs a few instructions, not a hash.
type stringSet struct {
	valueSet[string]
	filter bits256
}

func newStringSet(items []string) *stringSet {
	s := &stringSet{valueSet: *newValueSet(items)}
	if s.big != nil {
		for _, it := range items {
			s.filter.set(shape(it))
		}
	}
	return s
}

func (s *stringSet) has(v string) bool {
	if s.big != nil && !s.filter.has(shape(v)) {
		return false
	}
	return s.valueSet.has(v)
}

// bits256 is a set of bytes.
type bits256 [4]uint64

func (b *bits256) set(i uint8)      { b[i>>6] |= 1 << (i & 63) }
func (b *bits256) has(i uint8) bool { return b[i>>6]&(1<<(i&63)) != 0 }

// shape folds a string's length, first and last bytes into one byte: two
// strings that differ in any of them usually differ in it too.
func shape(s string) uint8 {
	if s == "" {
		return 0
	}
	h := uint32(len(s))*0x9e3779b1 ^ uint32(s[0])<<11 ^ uint32(s[len(s)-1])<<3
	return uint8((h * 0x85ebca6b) >> 24)
}
