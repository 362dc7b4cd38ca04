package pipeline

import (
	"sync"
	"testing"

	"github.com/vigilsec/vigil/internal/event"
)

func TestRingSizeAndWrap(t *testing.T) {
	r := newRing(5)
	if len(r.cells) != 8 {
		t.Fatalf("size %d, want 8", len(r.cells))
	}
	evs := make([]*event.Event, 8)
	for i := range evs {
		evs[i] = &event.Event{Timestamp: uint64(i)}
	}
	// Many laps, with the ring filled to the brim on each.
	for lap := 0; lap < 100; lap++ {
		for i, ev := range evs {
			if ok, closed := r.push(item{ev: ev}); !ok || closed {
				t.Fatalf("lap %d push %d refused", lap, i)
			}
		}
		if ok, _ := r.push(item{ev: evs[0]}); ok {
			t.Fatal("push into a full ring succeeded")
		}
		if r.len() != 8 {
			t.Fatalf("len %d", r.len())
		}
		for i := range evs {
			it, ok := r.pop()
			if !ok || it.ev.Timestamp != uint64(i) {
				t.Fatalf("lap %d pop %d: %v %v", lap, i, it.ev, ok)
			}
		}
		if _, ok := r.pop(); ok || r.len() != 0 {
			t.Fatal("pop from an empty ring succeeded")
		}
	}
}

func TestRingMinimumSize(t *testing.T) {
	for _, n := range []int{-1, 0, 1, 2} {
		r := newRing(n)
		if len(r.cells) != 2 {
			t.Fatalf("newRing(%d) has %d cells", n, len(r.cells))
		}
		a, b := &event.Event{}, &event.Event{}
		okA, _ := r.push(item{ev: a})
		okB, _ := r.push(item{ev: b})
		okC, _ := r.push(item{ev: a})
		if !okA || !okB || okC {
			t.Fatalf("pushes %v %v %v", okA, okB, okC)
		}
		if it, _ := r.pop(); it.ev != a {
			t.Fatal("order")
		}
	}
}

func TestRingClose(t *testing.T) {
	r := newRing(4)
	r.push(item{ev: &event.Event{}})
	r.push(item{ev: &event.Event{}})
	if end := r.close(); end != 2 {
		t.Fatalf("end %d", end)
	}
	if ok, closed := r.push(item{ev: &event.Event{}}); ok || !closed {
		t.Fatal("push after close")
	}
	n := 0
	r.drainTo(2, func(item) { n++ })
	if n != 2 || r.submitted() != 2 || r.len() != 0 {
		t.Fatalf("drained %d, submitted %d, len %d", n, r.submitted(), r.len())
	}
}

// TestRingProducersConsumer checks that with several producers nothing is
// lost or duplicated and each producer's events stay in order.
func TestRingProducersConsumer(t *testing.T) {
	const producers, each = 4, 5000
	r := newRing(64)
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				ev := &event.Event{PID: uint32(p), Timestamp: uint64(i)}
				for ok, _ := r.push(item{ev: ev}); !ok; ok, _ = r.push(item{ev: ev}) {
				}
			}
		}()
	}
	next := make([]uint64, producers)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for got := 0; got < producers*each; {
			it, ok := r.pop()
			if !ok {
				continue
			}
			ev := it.ev
			if ev.Timestamp != next[ev.PID] {
				t.Errorf("producer %d: got %d want %d", ev.PID, ev.Timestamp, next[ev.PID])
				return
			}
			next[ev.PID]++
			got++
		}
	}()
	wg.Wait()
	<-done
	if r.submitted() != producers*each {
		t.Fatalf("submitted %d", r.submitted())
	}
}
