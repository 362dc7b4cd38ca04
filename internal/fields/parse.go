package fields

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/syscalls/flags"
)

// The parsers here read values back in the form fields render them, for
// rule test fixtures that describe synthetic events the way rules see them.

// ParseOpenFlags parses open flags as evt.arg.flags renders them
// (O_WRONLY|O_CREAT|O_TRUNC, with bits that have no name in hex:
// O_RDONLY|0x80000000) or as a number (decimal, 0x hex or 0 octal).
func ParseOpenFlags(s string) (uint32, error) {
	var fl uint32
	for _, name := range strings.Split(s, "|") {
		name = strings.TrimSpace(name)
		if n, err := strconv.ParseUint(name, 0, 32); err == nil {
			fl |= uint32(n)
			continue
		}
		v, ok := flags.Open.Lookup(name)
		if !ok {
			return 0, fmt.Errorf("unknown open flag %q", name)
		}
		fl |= uint32(v)
	}
	return fl, nil
}

// ParseCaps parses a capability set written as CAP_ names separated by
// spaces, commas or |, as thread.cap_effective renders it.
func ParseCaps(s string) (uint64, error) {
	var caps uint64
	for _, name := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '|' }) {
		found := false
		for i, n := range capNames {
			if strings.EqualFold(n, name) {
				caps, found = caps|1<<i, true
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown capability %q", name)
		}
	}
	return caps, nil
}

var (
	errnoOnce   sync.Once
	errnoByName map[string]int64
)

// ParseResult parses a syscall result as evt.res renders it: SUCCESS
// (0), an error name such as ENOENT (its negative errno), or a number.
func ParseResult(s string) (int64, error) {
	if s == "SUCCESS" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	errnoOnce.Do(func() {
		errnoByName = map[string]int64{}
		for e := 1; e < 4096; e++ {
			if name := unix.ErrnoName(syscall.Errno(e)); name != "" {
				errnoByName[name] = -int64(e)
			}
		}
	})
	if n, ok := errnoByName[s]; ok {
		return n, nil
	}
	return 0, fmt.Errorf("%q is not SUCCESS, an errno name or a number", s)
}
