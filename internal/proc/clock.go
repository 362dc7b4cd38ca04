package proc

import "golang.org/x/sys/unix"

// /proc/<pid>/stat reports start times in USER_HZ ticks since boot, and
// USER_HZ is 100 on every architecture Vigil supports, whatever CONFIG_HZ is.
const (
	userHZ    = 100
	nsPerTick = 1_000_000_000 / userHZ
)

// startSlack absorbs the tick rounding of /proc start times and the delay
// between a task's start and the fork event's timestamp.
const startSlack = 5 * nsPerTick

// bootOffset returns CLOCK_BOOTTIME minus CLOCK_MONOTONIC: the time the
// machine spent suspended. /proc counts start times on the first clock,
// events on the second.
func bootOffset() int64 {
	var boot, mono unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono) != nil ||
		unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot) != nil {
		return 0
	}
	if off := boot.Nano() - mono.Nano(); off > 0 {
		return off
	}
	return 0
}

// monotonicStart converts a /proc start time to CLOCK_MONOTONIC
// nanoseconds, or 0 if it cannot be represented. For a process that
// started before a suspend the result is early by up to that suspend, which
// sameStart tolerates.
func monotonicStart(ticks uint64, off int64) uint64 {
	if ticks == 0 || ticks > 1<<63/nsPerTick {
		return 0
	}
	boot := int64(ticks * nsPerTick)
	if boot <= off {
		return 0
	}
	return uint64(boot - off)
}

// sameStart reports whether a process that /proc says started at ticks can
// be the one recorded as starting at mono. The offset between the two
// clocks only grows, so the /proc time may exceed the monotonic one by at
// most today's offset; anything else means the pid was reused.
func sameStart(mono, ticks uint64, off int64) bool {
	if mono == 0 || ticks == 0 || ticks > 1<<63/nsPerTick || mono > 1<<63 {
		return true // unknown: only existence can be checked
	}
	diff := int64(ticks*nsPerTick) - int64(mono)
	return diff >= -startSlack && diff <= off+startSlack
}
