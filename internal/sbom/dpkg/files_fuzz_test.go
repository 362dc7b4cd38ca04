package dpkg

import (
	"bytes"
	"path"
	"strings"
	"testing"
)

// lines splits b as the file lists are read: by newline, a carriage
// return before it dropped.
func lines(b []byte) []string {
	var out []string
	for _, l := range bytes.Split(b, []byte("\n")) {
		out = append(out, string(bytes.TrimSuffix(l, []byte("\r"))))
	}
	return out
}

// FuzzParseList reads a .list file: every line but blank ones and "/."
// is a file of the package, however long the lines are.
func FuzzParseList(f *testing.F) {
	f.Fuzz(checkList)
}

// FuzzParseMD5Sums reads a distroless md5sums file: one absolute, clean
// path for every "<md5>  <path>" line, however long the lines are.
func FuzzParseMD5Sums(f *testing.F) {
	f.Fuzz(checkMD5Sums)
}

// TestFileListsLongLine: a line over the scanner's 1 MiB limit once ended
// a package's file list there without an error, hiding the files after
// it. The fuzz targets' properties found it; the input is too long to
// fuzz efficiently.
func TestFileListsLongLine(t *testing.T) {
	long := strings.Repeat("x", 1<<20+1)
	checkList(t, []byte("/.\n/usr\n/usr/bin/"+long+"\n/usr/bin/tool\n"))
	checkMD5Sums(t, []byte("d41d8cd98f00b204e9800998ecf8427e  "+long+"\nd41d8cd98f00b204e9800998ecf8427e  usr/bin/tool\n"))
}

func checkList(t *testing.T, b []byte) {
	var want []string
	for _, l := range lines(b) {
		if l != "" && l != "/." {
			want = append(want, l)
		}
	}
	got := ParseList(b)
	if len(got) != len(want) {
		t.Fatalf("%d files, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("file %d: %q, want %q", i, got[i], want[i])
		}
	}
}

func checkMD5Sums(t *testing.T, b []byte) {
	want := 0
	for _, l := range lines(b) {
		if _, p, ok := strings.Cut(l, "  "); ok && p != "" {
			want++
		}
	}
	got := ParseMD5Sums(b)
	if len(got) != want {
		t.Fatalf("%d files, want %d", len(got), want)
	}
	for _, p := range got {
		if !path.IsAbs(p) || path.Clean(p) != p {
			t.Errorf("file %q", p)
		}
	}
}
