package python

import (
	"bytes"
	"errors"
	"path"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/sbom"
)

const sitePackages = "/usr/lib/python3/dist-packages"

// absClean reports whether p is an absolute, clean path: what file lists
// give the inventory, whatever the file held.
func absClean(p string) bool { return path.IsAbs(p) && path.Clean(p) == p }

// FuzzParseRecord reads a wheel's RECORD: every file comes out as an
// absolute, clean path, and a malformed file is an error that names its
// line.
func FuzzParseRecord(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		files, err := ParseRecord(b, sitePackages)
		for _, p := range files {
			if !absClean(p) {
				t.Errorf("file %q", p)
			}
		}
		var le *sbom.LineError
		if err != nil && (!errors.As(err, &le) || le.Line < 1) {
			t.Errorf("error without a line: %v", err)
		}
	})
}

// FuzzParseInstalledFiles reads an egg's installed-files.txt: one
// absolute, clean path for every line that is not blank, however long
// the lines are.
func FuzzParseInstalledFiles(f *testing.F) {
	f.Fuzz(checkInstalledFiles)
}

// TestParseInstalledFilesLongLine: a line over the scanner's 1 MiB limit
// once ended the list there without an error. The fuzz target's property
// found it; the input is too long to fuzz efficiently.
func TestParseInstalledFilesLongLine(t *testing.T) {
	checkInstalledFiles(t, []byte("../foo/__init__.py\n"+strings.Repeat("x", 1<<20+1)+"\n../foo/core.py\n"))
}

func checkInstalledFiles(t *testing.T, b []byte) {
	const eggInfo = sitePackages + "/foo-1.0.egg-info"
	files := ParseInstalledFiles(b, eggInfo)
	want := 0
	for _, l := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			want++
		}
	}
	if len(files) != want {
		t.Errorf("%d files from %d lines that are not blank", len(files), want)
	}
	for _, p := range files {
		if !absClean(p) {
			t.Errorf("file %q", p)
		}
	}
}
