package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// AllowedSkip is one entry of the allowed-skips file: a test that may
// skip in the gate, and why.
type AllowedSkip struct {
	testID
	Reason string
	Line   int
}

// ParseAllowed reads the allowed-skips file. Each entry is a line
//
//	<package import path> <test name> <reason>
//
// separated by blanks; the reason is the rest of the line and may not be
// empty, because an allowance nobody can explain is one nobody can
// review. Blank lines and lines starting with # are ignored.
func ParseAllowed(r io.Reader, name string) ([]AllowedSkip, error) {
	var out []AllowedSkip
	seen := map[testID]int{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			return nil, fmt.Errorf("%s:%d: want <package> <test> <reason>, found %q", name, n, line)
		}
		id := testID{Package: f[0], Test: f[1]}
		if prev, dup := seen[id]; dup {
			return nil, fmt.Errorf("%s:%d: %s is already listed at line %d", name, n, id, prev)
		}
		seen[id] = n
		out = append(out, AllowedSkip{testID: id, Reason: strings.Join(f[2:], " "), Line: n})
	}
	return out, sc.Err()
}
