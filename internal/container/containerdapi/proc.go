package containerdapi

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's start time. It is
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// processStart returns when a process started, in Unix nanoseconds, from
// its start time in /proc/<pid>/stat and the boot time in /proc/stat.
// containerd's task API has no start time, and the process is the
// container's first one, so this is the container's start.
func processStart(procRoot string, pid uint32) (int64, error) {
	stat, err := os.ReadFile(procRoot + "/" + strconv.FormatUint(uint64(pid), 10) + "/stat")
	if err != nil {
		return 0, err
	}
	ticks, err := ParseStatStart(stat)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	boot, err := bootTime(procRoot)
	if err != nil {
		return 0, err
	}
	return boot*1e9 + int64(ticks)*(1e9/clockTicks), nil
}

// ParseStatStart reads field 22 (starttime, in clock ticks since boot)
// of a /proc/<pid>/stat line. The command name (field 2) may hold spaces
// and parentheses, so fields are counted from the last ')'.
func ParseStatStart(stat []byte) (uint64, error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, errors.New("no command name")
	}
	fields := bytes.Fields(stat[end+1:])
	// fields[0] is field 3 (state); starttime is field 22.
	const idx = 22 - 3
	if len(fields) <= idx {
		return 0, fmt.Errorf("%d fields after the command name, want more than %d", len(fields), idx)
	}
	return strconv.ParseUint(string(fields[idx]), 10, 64)
}

var (
	bootOnce sync.Once
	bootSec  int64
	bootErr  error
)

// bootTime reads btime (boot time, Unix seconds) from /proc/stat once.
func bootTime(procRoot string) (int64, error) {
	bootOnce.Do(func() {
		b, err := os.ReadFile(procRoot + "/stat")
		if err != nil {
			bootErr = err
			return
		}
		bootSec, bootErr = ParseBootTime(b)
	})
	return bootSec, bootErr
}

// ParseBootTime finds the "btime" line of /proc/stat.
func ParseBootTime(stat []byte) (int64, error) {
	for line := range bytes.SplitSeq(stat, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			return strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
		}
	}
	return 0, errors.New("/proc/stat: no btime line")
}
