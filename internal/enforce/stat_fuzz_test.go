package enforce

import (
	"fmt"
	"strings"
	"testing"
)

// FuzzParseStat reads /proc/<pid>/stat lines, whose process name may hold
// anything, parentheses and spaces included: a line that parses gives the
// name between the first '(' and the last ')', and writing those values
// back as the kernel does reads back the same.
func FuzzParseStat(f *testing.F) {
	f.Fuzz(func(t *testing.T, line string) {
		st, err := parseStat(line)
		if err != nil {
			return
		}
		if want := line[strings.IndexByte(line, '(')+1 : strings.LastIndexByte(line, ')')]; st.name != want {
			t.Errorf("name %q, want %q", st.name, want)
		}
		again := fmt.Sprintf("42 (%s) %s %d 42 42 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 %d 1000 200\n", st.name, []byte{st.state}, st.ppid, st.start)
		if st2, err := parseStat(again); err != nil || st2 != st {
			t.Errorf("%+v written as %q reads as %+v, %v", st, again, st2, err)
		}
	})
}
