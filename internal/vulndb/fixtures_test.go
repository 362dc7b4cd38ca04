package vulndb

import (
	"archive/zip"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// fixtureRecords cover every range case the matcher handles; the file
// name is the record id.
var fixtureRecords = map[string]string{
	// Debian: "~" ordering and source-package mapping (libssl3 from openssl).
	"DSA-5532-1": `{"id": "DSA-5532-1", "modified": "2023-10-01T00:00:00Z", "aliases": ["CVE-2023-5363"],
	  "summary": "openssl security update",
	  "affected": [
	    {"package": {"ecosystem": "Debian:12", "name": "openssl"},
	     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}]}]},
	    {"package": {"ecosystem": "Debian:11", "name": "openssl"},
	     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.1w-0+deb11u1"}]}]}]}`,
	// Debian 11 only: must never match a Debian 12 inventory.
	"DLA-3530-1": `{"id": "DLA-3530-1", "modified": "2023-08-01T00:00:00Z", "aliases": ["CVE-2023-2650"],
	  "affected": [{"package": {"ecosystem": "Debian:11", "name": "openssl"},
	    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9:9.9.9-1"}]}]}]}`,
	// Debian epochs: 4.13 without epoch sorts before 1:4.13.
	"DSA-9000-1": `{"id": "DSA-9000-1", "modified": "2023-01-01T00:00:00Z",
	  "database_specific": {"severity": "moderate"},
	  "affected": [{"package": {"ecosystem": "Debian:12", "name": "shadow"},
	    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:4.13+dfsg1-1+deb12u1"}]}]}]}`,
	// Epoch beats a larger upstream: 1:0.9 is not below 2.0.
	"DSA-9001-1": `{"id": "DSA-9001-1", "modified": "2023-01-01T00:00:00Z",
	  "affected": [{"package": {"ecosystem": "Debian:12", "name": "epochy"},
	    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]}]}`,
	// Alpine -r revisions, per origin package and release.
	"ALPINE-CVE-2023-42366": `{"id": "ALPINE-CVE-2023-42366", "modified": "2023-12-01T00:00:00Z", "aliases": ["CVE-2023-42366"],
	  "affected": [
	    {"package": {"ecosystem": "Alpine:v3.19", "name": "busybox"},
	     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.36.1-r10"}]}]},
	    {"package": {"ecosystem": "Alpine:v3.18", "name": "busybox"},
	     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.36.1-r7"}]}]}]}`,
	// last_affected, no fix known.
	"GHSA-last-affd-0001": `{"id": "GHSA-last-affd-0001", "modified": "2023-01-01T00:00:00Z",
	  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
	  "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
	    "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"last_affected": "1.3.0"}]}]}]}`,
	// limit, and PEP 440 ordering with a name that needs normalizing.
	"PYSEC-2099-1": `{"id": "PYSEC-2099-1", "modified": "2023-01-01T00:00:00Z",
	  "affected": [{"package": {"ecosystem": "PyPI", "name": "Jinja2"},
	    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"limit": "3.0"}]}]}]}`,
	// explicit versions, no ranges.
	"GHSA-expl-icit-0001": `{"id": "GHSA-expl-icit-0001", "modified": "2023-01-01T00:00:00Z",
	  "affected": [{"package": {"ecosystem": "RubyGems", "name": "rack"}, "versions": ["2.2.3", "2.2.4"]}]}`,
	// Maven: 1.0-SNAPSHOT sorts before 1.0.
	"GHSA-mvn0-snap-0001": `{"id": "GHSA-mvn0-snap-0001", "modified": "2023-01-01T00:00:00Z",
	  "affected": [{"package": {"ecosystem": "Maven", "name": "org.example:lib"},
	    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0"}]}]}]}`,
	// Withdrawn: never a finding.
	"GO-2099-0001": `{"id": "GO-2099-0001", "modified": "2023-01-01T00:00:00Z", "withdrawn": "2023-02-01T00:00:00Z",
	  "affected": [{"package": {"ecosystem": "Go", "name": "example.com/withdrawn"},
	    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}`,
	// Two records for one CVE: one finding listing every id.
	"GO-2022-1059": `{"id": "GO-2022-1059", "modified": "2023-01-01T00:00:00Z", "aliases": ["CVE-2022-32149", "GHSA-69ch-w2m2-3vjp"],
	  "summary": "Denial of service via crafted Accept-Language header",
	  "affected": [{"package": {"ecosystem": "Go", "name": "golang.org/x/text"},
	    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.3.8"}]}]}]}`,
	"GHSA-69ch-w2m2-3vjp": `{"id": "GHSA-69ch-w2m2-3vjp", "modified": "2023-01-01T00:00:00Z", "aliases": ["CVE-2022-32149"],
	  "summary": "golang.org/x/text/language Denial of service",
	  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
	  "database_specific": {"severity": "HIGH"},
	  "affected": [{"package": {"ecosystem": "Go", "name": "golang.org/x/text"},
	    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.3.8"}]}]}]}`,
	// Go toolchain, re-introduced ranges.
	"GO-2023-2185": `{"id": "GO-2023-2185", "modified": "2023-01-01T00:00:00Z",
	  "affected": [{"package": {"ecosystem": "Go", "name": "stdlib"},
	    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.20.11"}, {"introduced": "1.21.0-0"}, {"fixed": "1.21.4"}]}]}]}`,
	// RPM: epoch:version-release, matched through the source package.
	"ALSA-2023:5209": `{"id": "ALSA-2023:5209", "modified": "2023-01-01T00:00:00Z",
	  "affected": [{"package": {"ecosystem": "AlmaLinux:9", "name": "openssl"},
	    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:3.0.7-24.el9"}]}]}]}`,
	// Ubuntu's ":LTS" suffix names the same release.
	"USN-6000-1": `{"id": "USN-6000-1", "modified": "2023-01-01T00:00:00Z",
	  "severity": [{"type": "Ubuntu", "score": "medium"}],
	  "affected": [{"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "curl"},
	    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "7.81.0-1ubuntu1.13"}]}]}]}`,
	// GIT ranges only: cannot be evaluated without the source.
	"OSV-2099-1": `{"id": "OSV-2099-1", "modified": "2023-01-01T00:00:00Z",
	  "affected": [{"package": {"ecosystem": "crates.io", "name": "gitonly"},
	    "ranges": [{"type": "GIT", "repo": "https://example.invalid/x", "events": [{"introduced": "abc"}]}]}]}`,
	// crates.io with two vulnerable lines.
	"RUSTSEC-2099-0001": `{"id": "RUSTSEC-2099-0001", "modified": "2023-01-01T00:00:00Z",
	  "affected": [{"package": {"ecosystem": "crates.io", "name": "smallvec"},
	    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0.6.0"}, {"fixed": "0.6.14"}, {"introduced": "1.0.0"}, {"fixed": "1.6.1"}]}]}]}`,
}

// writeFixtures writes one file per record under dir, some in a
// sub-directory, so imports walk recursively.
func writeFixtures(t testing.TB, dir string) {
	t.Helper()
	i := 0
	for id, body := range fixtureRecords {
		sub := dir
		if i%2 == 1 {
			sub = filepath.Join(dir, "nested", "deeper")
		}
		i++
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, sanitize(id)+".json"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// writeZip writes records into a zip the way OSV publishes dumps.
func writeZip(t testing.TB, path string, records map[string]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for id, body := range records {
		w, err := zw.Create(sanitize(id) + ".json")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func sanitize(id string) string {
	out := []byte(id)
	for i, c := range out {
		if c == ':' {
			out[i] = '_'
		}
	}
	return string(out)
}

// openFixtureDB imports the fixtures into a fresh store.
func openFixtureDB(t testing.TB) *DB {
	t.Helper()
	dir := t.TempDir()
	writeFixtures(t, filepath.Join(dir, "osv"))
	db, err := Open(filepath.Join(dir, "vulndb.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := db.Import(context.Background(), filepath.Join(dir, "osv"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Bad != 0 || st.Records != len(fixtureRecords) {
		t.Fatalf("import stats %+v", st)
	}
	return db
}
