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
// detected program (by name, when comm is not ""), then signalled.
func killPID(procRoot string, pid uint32, comm string) error {
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
	st, err := readStat(procRoot, pid)
	if err != nil || st.gone() || (comm != "" && st.name != comm) {
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

// procStat is what enforcement reads from /proc/<pid>/stat.
type procStat struct {
	name  string
	state byte
	ppid  uint32
	start uint64 // field 22, clock ticks since boot
}

// gone reports a zombie (dead, waiting to be reaped), whose signals go
// nowhere.
func (st procStat) gone() bool { return st.state == 'Z' || st.state == 'X' || st.state == 'x' }

// readStat reads /proc/<pid>/stat. The name sits in parentheses and may
// itself contain spaces and parentheses, so fields are counted from the
// last ')'.
func readStat(procRoot string, pid uint32) (procStat, error) {
	b, err := os.ReadFile(procRoot + "/" + strconv.FormatUint(uint64(pid), 10) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseStat(string(b))
}

func parseStat(s string) (procStat, error) {
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open {
		return procStat{}, errors.New("malformed stat: no (name)")
	}
	rest := strings.Fields(s[close+1:])
	// rest[0] is field 3 (state), rest[1] field 4 (ppid), rest[19] field 22.
	if len(rest) < 20 || len(rest[0]) != 1 {
		return procStat{}, errors.New("short stat")
	}
	ppid, err1 := strconv.ParseUint(rest[1], 10, 32)
	start, err2 := strconv.ParseUint(rest[19], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return procStat{}, fmt.Errorf("stat: %w", err)
	}
	return procStat{name: s[open+1 : close], state: rest[0][0], ppid: uint32(ppid), start: start}, nil
}

// processGone reports whether pid has exited: no /proc entry, or a zombie.
func processGone(procRoot string, pid uint32) bool {
	st, err := readStat(procRoot, pid)
	return err != nil || st.gone()
}
