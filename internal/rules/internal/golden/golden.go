// Package golden supports the rules packages' golden-file tests: input
// cases in a small txtar-like format, and expected output files that
// "go test -update" rewrites.
package golden

import (
	"bytes"
	"flag"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Update is set by "go test -update" to rewrite golden files instead of
// comparing against them.
var Update = flag.Bool("update", false, "rewrite golden files")

// Case is one named input.
type Case struct {
	Name string
	Text string
}

// ParseCases splits data into cases. Each case starts with a header line
// "-- name --" and runs to the next header; text before the first header
// is commentary. The final newline of each case is dropped.
func ParseCases(data string) []Case {
	var cases []Case
	for _, line := range strings.SplitAfter(data, "\n") {
		trimmed := strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			cases = append(cases, Case{Name: trimmed[3 : len(trimmed)-3]})
			continue
		}
		if len(cases) > 0 {
			cases[len(cases)-1].Text += line
		}
	}
	for i := range cases {
		cases[i].Text = strings.TrimSuffix(cases[i].Text, "\n")
	}
	return cases
}

// ReadCases reads and splits a case file.
func ReadCases(t testing.TB, path string) []Case {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return ParseCases(string(data))
}

// Check compares got with the golden file at path, or rewrites the file
// when -update is set.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *Update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output; run go test -update and review the diff\n%s", path, firstDiff(string(want), string(got)))
	}
}

// firstDiff shows the first differing line, which is usually enough to
// see what changed.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl
		}
	}
	return ""
}
