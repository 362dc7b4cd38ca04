package fields

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// The parsers of parse.go read back what the renderers write, for rule
// test fixtures; each fuzz target checks both directions.

// FuzzParseOpenFlags: every value renders to text that parses back to it,
// and every text that parses renders and parses back to the same value.
func FuzzParseOpenFlags(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string, v uint32) {
		if got, err := ParseOpenFlags(string(appendOpenFlags(nil, v))); err != nil || got != v {
			t.Errorf("%#x renders as %q, which parses as %#x, %v", v, appendOpenFlags(nil, v), got, err)
		}
		n, err := ParseOpenFlags(s)
		if err != nil {
			return
		}
		if again, err := ParseOpenFlags(string(appendOpenFlags(nil, n))); err != nil || again != n {
			t.Errorf("%q parses as %#x, which renders as %q and parses as %#x, %v", s, n, appendOpenFlags(nil, n), again, err)
		}
	})
}

// knownCaps are the capability bits with names, the ones that render.
const knownCaps = 1<<len(capNames) - 1

// FuzzParseCaps: a capability set renders to names that parse back to
// it (bits without names render as nothing, as in Falco).
func FuzzParseCaps(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string, v uint64) {
		if got, err := ParseCaps(string(appendCaps(nil, v))); err != nil || got != v&knownCaps {
			t.Errorf("%#x renders as %q, which parses as %#x, %v", v, appendCaps(nil, v), got, err)
		}
		n, err := ParseCaps(s)
		if err != nil {
			return
		}
		if n&^knownCaps != 0 {
			t.Errorf("%q parses as %#x, with bits no capability has", s, n)
		}
		if again, err := ParseCaps(string(appendCaps(nil, n))); err != nil || again != n {
			t.Errorf("%q parses as %#x, which renders as %q and parses as %#x, %v", s, n, appendCaps(nil, n), again, err)
		}
	})
}

// renderRes renders a result as evt.res does.
func renderRes(ret int64) string {
	switch {
	case ret >= 0:
		return "SUCCESS"
	case errnoName(ret) != "":
		return errnoName(ret)
	}
	return strconv.FormatInt(ret, 10)
}

// FuzzParseResult: a failed result renders as evt.res does and parses
// back to the same number; success renders as SUCCESS, which parses as 0.
func FuzzParseResult(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string, ret int64) {
		want := ret
		if ret > 0 {
			want = 0 // SUCCESS says only that the call did not fail
		}
		if got, err := ParseResult(renderRes(ret)); err != nil || got != want {
			t.Errorf("%d renders as %q, which parses as %d, %v", ret, renderRes(ret), got, err)
		}
		n, err := ParseResult(s)
		if err != nil || n > 0 {
			return
		}
		if again, err := ParseResult(renderRes(n)); err != nil || again != n {
			t.Errorf("%q parses as %d, which renders as %q and parses as %d, %v", s, n, renderRes(n), again, err)
		}
	})
}

// FuzzParseIDFile reads passwd and group files. Each line stands alone: a
// bad line, however long, must not hide the ones after it, and the first
// name for an id wins.
func FuzzParseIDFile(f *testing.F) {
	f.Fuzz(checkIDFile)
}

// TestParseIDFileLongLine: a line longer than a bufio.Scanner's buffer
// once ended the file there, dropping every user after it. The fuzz
// target's property found it; the input is too long to fuzz efficiently.
func TestParseIDFileLongLine(t *testing.T) {
	checkIDFile(t, []byte("root:x:0:0:root:/root:/bin/bash\n"+strings.Repeat("g", 70<<10)+":x:1:1::/:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n"))
}

// checkIDFile compares parseIDFile with a line-by-line reading of data.
func checkIDFile(t *testing.T, data []byte) {
	got := parseIDFile(data)
	want := map[uint32]string{}
	for _, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		f := strings.SplitN(string(line), ":", 4)
		if len(f) < 3 || f[0] == "" {
			continue
		}
		id, err := strconv.ParseUint(f[2], 10, 32)
		if _, dup := want[uint32(id)]; err == nil && !dup {
			want[uint32(id)] = f[0]
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d ids read, want %d", len(got), len(want))
	}
	for id, name := range want {
		if got[id] != name || strings.ContainsAny(name, ":\n") {
			t.Errorf("id %d: %q, want %q", id, got[id], name)
		}
	}
}
