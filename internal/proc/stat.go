package proc

import (
	"bytes"
	"errors"
)

// statInfo holds the /proc/<pid>/stat fields the table uses.
type statInfo struct {
	PID        uint32
	Comm       []byte // a view into the parsed buffer
	State      byte
	PPID       uint32
	PGID       uint32
	SID        uint32
	TTY        uint32 // tty_nr; the kernel prints it signed, we keep the bits
	StartTicks uint64 // field 22, clock ticks since boot; 0 if absent
}

var errBadStat = errors.New("proc: malformed stat line")

// parseStat parses a /proc/<pid>/stat line. The comm field is delimited by
// the first '(' and the LAST ')': comm may itself contain spaces, ')' and
// '(' (a process can name itself anything), but no field after it can
// contain ')'.
func parseStat(b []byte) (statInfo, error) {
	var s statInfo
	open := bytes.IndexByte(b, '(')
	closing := bytes.LastIndexByte(b, ')')
	if open < 0 || closing < open {
		return s, errBadStat
	}
	pid, ok := parseUint32(trimSpace(b[:open]))
	if !ok {
		return s, errBadStat
	}
	s.PID = pid
	s.Comm = b[open+1 : closing]

	// Fields after comm, numbered from 3 as in proc(5).
	rest := b[closing+1:]
	var f []byte
	for n := 3; n <= 22; n++ {
		f, rest = nextField(rest)
		if len(f) == 0 {
			if n <= 7 {
				return statInfo{}, errBadStat // too short to be a stat line
			}
			break // older or truncated lines: the tail is optional
		}
		switch n {
		case 3:
			s.State = f[0]
		case 4:
			s.PPID, ok = parseUint32(f)
		case 5:
			s.PGID, ok = parseUint32(f)
		case 6:
			s.SID, ok = parseUint32(f)
		case 7:
			var v int64
			v, ok = parseInt(f)
			ok = ok && v >= -1<<31 && v < 1<<32
			s.TTY = uint32(v)
		case 22:
			s.StartTicks, ok = parseUint(f)
		}
		if !ok {
			return statInfo{}, errBadStat
		}
	}
	return s, nil
}
