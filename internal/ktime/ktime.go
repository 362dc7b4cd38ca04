// Package ktime reads the kernel's event clock and turns its readings into
// wall time.
//
// Every timestamp that comes from eBPF (bpf_ktime_get_ns) is
// CLOCK_MONOTONIC in nanoseconds: it does not count suspend and has no
// relation to the wall clock. Stages that compare a kernel timestamp with
// "now" use [Now]; stages that show one to people use a [Clock].
package ktime

import (
	"time"

	"golang.org/x/sys/unix"
)

// Now returns CLOCK_MONOTONIC in nanoseconds, the clock of kernel event
// timestamps, or 0 if the clock cannot be read.
func Now() uint64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return uint64(ts.Nano())
}

// Clock converts kernel timestamps to wall time with one offset measured
// when it was made. A Clock is a value: copies share nothing.
type Clock struct{ offset time.Duration }

// NewClock measures the offset between the monotonic and the wall clock now.
func NewClock() Clock {
	return Clock{offset: time.Duration(time.Now().UnixNano() - int64(Now()))}
}

// Wall returns the wall-clock time, in UTC, of a kernel timestamp.
func (c Clock) Wall(mono uint64) time.Time {
	return time.Unix(0, int64(mono)+int64(c.offset)).UTC()
}
