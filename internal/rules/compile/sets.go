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
