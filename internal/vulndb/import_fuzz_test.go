package vulndb

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzImportZip imports an OSV dump as downloaded: a zip of JSON records.
// Nothing in the archive may stop the import or go uncounted: every record
// read is added, replaces one or is older than the stored one, a bad
// record's position is a line and column together, and the problems
// listed stay within MaxProblems.
func FuzzImportZip(f *testing.F) {
	db, err := Open(filepath.Join(f.TempDir(), "db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		if err := db.Close(); err != nil {
			f.Error(err)
		}
	})
	db.bolt.NoSync = true // the store's durability is not under test
	file := filepath.Join(f.TempDir(), "all.zip")
	f.Fuzz(func(t *testing.T, archive []byte) { checkImportZip(t, db, file, archive) })
}

// TestImportZipUnkeyablePackage: a record whose package name is longer
// than the store's keys allow once failed the whole import (and the
// records batched with it); it is now a bad record like any other. Too
// long an input to fuzz efficiently, so it is a test of its own.
func TestImportZipUnkeyablePackage(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("long.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(w, `{"id": "X-1", "modified": "2024-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "npm", "name": %q}, "versions": ["1.0.0"]}]}`,
		strings.Repeat("n", 40_000)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	st := checkImportZip(t, db, filepath.Join(t.TempDir(), "dump.zip"), buf.Bytes())
	if st.Bad != 1 || st.Records != 0 {
		t.Errorf("stats %+v", st)
	}
}

// checkImportZip imports archive from file and checks the stats.
func checkImportZip(t *testing.T, db *DB, file string, archive []byte) ImportStats {
	t.Helper()
	if err := os.WriteFile(file, archive, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := db.Import(context.Background(), file)
	if err != nil {
		t.Fatalf("import failed: %v", err)
	}
	if st.Records != st.Added+st.Replaced+st.Older {
		t.Errorf("%d records read, %d added, %d replaced, %d older", st.Records, st.Added, st.Replaced, st.Older)
	}
	if len(st.Problems) > MaxProblems || st.Bad < len(st.Problems) {
		t.Errorf("%d bad, %d problems listed", st.Bad, len(st.Problems))
	}
	for _, p := range st.Problems {
		if !strings.HasPrefix(p.Source, file) || (p.Line > 0) != (p.Column > 0) || p.Err == "" {
			t.Errorf("problem %+v", p)
		}
	}
	return st
}
