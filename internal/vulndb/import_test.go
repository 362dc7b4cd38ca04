package vulndb

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestImportBadRecordsArePlacedAndSkipped(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"good.json":      fixtureRecords["GO-2022-1059"],
		"syntax.json":    "{\n  \"id\": \"X-1\",\n  \"modified\": ,\n}",
		"invalid.json":   `{"id": "X-2", "modified": "2023-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "npm", "name": "a"}, "ranges": [{"type": "SEMVER", "events": [{"fixed": "1"}]}]}]}`,
		"array.json":     "[\n" + fixtureRecords["DSA-9001-1"] + ",\n{\"id\": 7}\n]",
		"notes.txt":      "not a record, skipped inside a directory",
		"broken.zip":     "PK but not really",
		"sub/empty.json": "",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db, err := Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := db.Import(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Problem{
		{Source: filepath.Join(dir, "array.json"), Line: 5, Column: 8, Err: "json: cannot unmarshal number into Go struct field Record.id of type string"},
		{Source: filepath.Join(dir, "broken.zip"), Err: "not a readable zip: zip: not a valid zip file"},
		{Source: filepath.Join(dir, "invalid.json"), Line: 1, Column: 1, Err: "X-2: affected[0]: ranges[0]: no introduced event"},
		{Source: filepath.Join(dir, "sub/empty.json"), Line: 1, Column: 1, Err: "unexpected end of JSON input"},
		{Source: filepath.Join(dir, "syntax.json"), Line: 3, Column: 15, Err: "invalid character ',' looking for beginning of value"},
	}
	if !reflect.DeepEqual(st.Problems, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", js(st.Problems), js(want))
	}
	if st.Bad != 5 || st.Records != 2 || st.Added != 2 || st.Files != 5 {
		t.Errorf("stats %+v", st)
	}
	if got := want[0].String(); !strings.HasPrefix(got, filepath.Join(dir, "array.json")+":5:8: json: cannot") {
		t.Errorf("Problem.String() = %q", got)
	}
}

func TestImportMissingPath(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Import(context.Background(), "/nonexistent/osv")
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/osv: no such file or directory") {
		t.Fatalf("err = %v", err)
	}
}

// TestImportIdempotentAndModified re-imports the same data (nothing
// changes), then a newer and an older version of one record.
func TestImportIdempotentAndModified(t *testing.T) {
	dir := t.TempDir()
	osvDir := filepath.Join(dir, "osv")
	writeFixtures(t, osvDir)
	db, err := Open(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.Import(ctx, osvDir); err != nil {
		t.Fatal(err)
	}
	before, err := db.Status()
	if err != nil {
		t.Fatal(err)
	}
	st, err := db.Import(ctx, osvDir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Added != 0 || st.Replaced != len(fixtureRecords) || st.Older != 0 {
		t.Errorf("re-import stats %+v", st)
	}
	after, _ := db.Status()
	if !sameCounts(before, after) {
		t.Errorf("counts changed on re-import: %+v → %+v", before, after)
	}

	q := Query{Name: "golang.org/x/text", Version: "v0.3.8", Ecosystem: "Go"}
	newer := strings.Replace(strings.Replace(fixtureRecords["GO-2022-1059"], `"0.3.8"`, `"0.3.9"`, 1),
		"2023-01-01T00:00:00Z", "2024-01-01T00:00:00Z", 1)
	older := strings.Replace(strings.Replace(fixtureRecords["GO-2022-1059"], `"0.3.8"`, `"0.4.0"`, 1),
		"2023-01-01T00:00:00Z", "2022-01-01T00:00:00Z", 1)
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	st, err = db.Import(ctx, write("newer.json", newer))
	if err != nil || st.Replaced != 1 {
		t.Fatalf("newer: %+v %v", st, err)
	}
	findings, _, _ := db.Match(ctx, []Query{q})
	if len(findings) != 1 || findings[0].Records[0] != "GO-2022-1059" || findings[0].FixedVersion != "0.3.9" {
		t.Fatalf("after newer import: %s", js(findings))
	}
	st, err = db.Import(ctx, write("older.json", older))
	if err != nil || st.Older != 1 || st.Replaced != 0 {
		t.Fatalf("older: %+v %v", st, err)
	}
	findings, _, _ = db.Match(ctx, []Query{q})
	if len(findings) != 1 || findings[0].FixedVersion != "0.3.9" {
		t.Fatalf("older import replaced the newer record: %s", js(findings))
	}
	r, ok, err := db.Record("GO-2022-1059")
	if err != nil || !ok || !strings.Contains(string(r.Raw), `"0.3.9"`) {
		t.Fatalf("Record = %v %v %v", r, ok, err)
	}

	// Withdrawing a record later removes it from matching.
	withdrawn := strings.Replace(newer, `"modified": "2024-01-01T00:00:00Z"`,
		`"modified": "2025-01-01T00:00:00Z", "withdrawn": "2025-01-01T00:00:00Z"`, 1)
	if _, err := db.Import(ctx, write("withdrawn.json", withdrawn)); err != nil {
		t.Fatal(err)
	}
	findings, _, _ = db.Match(ctx, []Query{q})
	if len(findings) != 0 {
		t.Fatalf("withdrawn record still matches: %s", js(findings))
	}
	status, _ := db.Status()
	for _, s := range status {
		if s.Ecosystem == "Go" && (s.Records != 4 || s.Withdrawn != 2) {
			t.Errorf("Go status %+v, want 4 records, 2 withdrawn", s)
		}
	}
}

func sameCounts(a, b []EcosystemStatus) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Ecosystem != b[i].Ecosystem || a[i].Records != b[i].Records || a[i].Withdrawn != b[i].Withdrawn {
			return false
		}
	}
	return true
}

func TestImportZipAndStatus(t *testing.T) {
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "all.zip")
	writeZip(t, zipPath, fixtureRecords)
	db, err := Open(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := db.Import(context.Background(), zipPath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Files != len(fixtureRecords) || st.Added != len(fixtureRecords) || st.Withdrawn != 1 || st.Bad != 0 {
		t.Fatalf("stats %+v", st)
	}
	status, err := db.Status()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]int{}
	for _, s := range status {
		got[s.Ecosystem] = [2]int{s.Records, s.Withdrawn}
		if s.LastImport.IsZero() || !s.LastUpdate.IsZero() {
			t.Errorf("%s: times %+v", s.Ecosystem, s)
		}
	}
	want := map[string][2]int{
		"Debian": {4, 0}, "Alpine": {1, 0}, "npm": {1, 0}, "PyPI": {1, 0}, "RubyGems": {1, 0},
		"Maven": {1, 0}, "Go": {4, 1}, "AlmaLinux": {1, 0}, "Ubuntu": {1, 0}, "crates.io": {2, 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("status %v, want %v", got, want)
	}
}
