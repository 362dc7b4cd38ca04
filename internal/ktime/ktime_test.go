package ktime

import (
	"testing"
	"time"
)

func TestNowAdvances(t *testing.T) {
	a := Now()
	time.Sleep(2 * time.Millisecond)
	b := Now()
	if a == 0 || b <= a {
		t.Fatalf("Now went from %d to %d", a, b)
	}
}

func TestClockWall(t *testing.T) {
	c := NewClock()
	before := time.Now()
	got := c.Wall(Now())
	after := time.Now()
	// The offset was measured with two separate reads, so allow a little
	// slack on either side.
	if got.Before(before.Add(-50*time.Millisecond)) || got.After(after.Add(50*time.Millisecond)) {
		t.Fatalf("Wall(Now()) = %v, want between %v and %v", got, before, after)
	}
	if got.Location() != time.UTC {
		t.Fatalf("Wall returned %v, want UTC", got.Location())
	}
}
