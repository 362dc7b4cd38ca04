package enforce

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// errChanged says the pid no longer runs the program that was detected.
var errChanged = errors.New("the process exited or changed program before it could be killed")

// killPID kills the process pid with SIGKILL through a pidfd, so that the
// signal cannot reach another process that reused the pid: the pidfd is
// opened first, then the process behind it is checked to still run the
// detected program (by name and start time), then signalled. startTicks is
// the process start time in clock ticks since boot as /proc/<pid>/stat
// reports it, or 0 to check the name only.
func killPID(procRoot string, pid uint32, comm string, startTicks uint64) error {
	if pid <= 1 || int(pid) == os.Getpid() {
		return fmt.Errorf("refusing to kill pid %d", pid)
	}
	fd, err := unix.PidfdOpen(int(pid), 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return errChanged
		}
		return fmt.Errorf("pidfd_open(%d): %w", pid, err)
	}
	defer unix.Close(fd)
	name, start, err := readStat(procRoot, pid)
	if err != nil || processGone(procRoot, pid) {
		return errChanged
	}
	if (comm != "" && name != comm) || (startTicks != 0 && start != startTicks) {
		return errChanged
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return errChanged
		}
		return fmt.Errorf("pidfd_send_signal(%d): %w", pid, err)
	}
	return nil
}

// readStat returns a process's name and start time (field 22) from
// /proc/<pid>/stat. The name sits in parentheses and may itself contain
// spaces and parentheses, so fields are counted from the last ')'.
func readStat(procRoot string, pid uint32) (string, uint64, error) {
	b, err := os.ReadFile(procRoot + "/" + strconv.FormatUint(uint64(pid), 10) + "/stat")
	if err != nil {
		return "", 0, err
	}
	s := string(b)
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open {
		return "", 0, fmt.Errorf("malformed stat for pid %d", pid)
	}
	rest := strings.Fields(s[close+1:])
	// rest[0] is field 3 (state); the start time is field 22.
	if len(rest) < 20 {
		return "", 0, fmt.Errorf("short stat for pid %d", pid)
	}
	start, err := strconv.ParseUint(rest[19], 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("stat start time for pid %d: %w", pid, err)
	}
	return s[open+1 : close], start, nil
}

// processGone reports whether pid has exited: no /proc entry, or a zombie
// (dead, waiting to be reaped) whose signals go nowhere.
func processGone(procRoot string, pid uint32) bool {
	b, err := os.ReadFile(procRoot + "/" + strconv.FormatUint(uint64(pid), 10) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return true
	}
	state := s[i+2]
	return state == 'Z' || state == 'X' || state == 'x'
}
