package vulndb

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestMatchFixtures runs one inventory against every fixture and checks
// the exact findings and unevaluated packages.
func TestMatchFixtures(t *testing.T) {
	db := openFixtureDB(t)

	libssl := Query{Name: "libssl3", Version: "3.0.11-1~deb12u1", Ecosystem: "Debian:12", SourceName: "openssl"}
	libsslFixed := Query{Name: "libssl3", Version: "3.0.11-1~deb12u2", Ecosystem: "Debian:12", SourceName: "openssl"}
	shadowOld := Query{Name: "passwd", Version: "4.13+dfsg1-1", Ecosystem: "Debian:12", SourceName: "shadow", SourceVersion: "1:4.13+dfsg1-1"}
	shadowNoEpoch := Query{Name: "login", Version: "4.13+dfsg1-1+deb12u1", Ecosystem: "Debian:12", SourceName: "shadow"}
	epochy := Query{Name: "epochy", Version: "1:0.9", Ecosystem: "Debian:12"}
	busybox := Query{Name: "busybox-binsh", Version: "1.36.1-r9", Ecosystem: "Alpine:v3.19", SourceName: "busybox"}
	busyboxFixed := Query{Name: "busybox", Version: "1.36.1-r10", Ecosystem: "Alpine:v3.19"}
	busybox318 := Query{Name: "busybox", Version: "1.36.1-r7", Ecosystem: "Alpine:v3.18"}
	leftPadLast := Query{Name: "left-pad", Version: "1.3.0", Ecosystem: "npm"}
	leftPadAfter := Query{Name: "left-pad", Version: "1.3.1", Ecosystem: "npm"}
	jinjaIn := Query{Name: "jinja2", Version: "2.11.3", Ecosystem: "PyPI"}
	jinjaDev := Query{Name: "Jinja2", Version: "2.0.dev1", Ecosystem: "PyPI"}
	jinjaLimit := Query{Name: "jinja2", Version: "3.0", Ecosystem: "PyPI"}
	rackListed := Query{Name: "rack", Version: "2.2.4", Ecosystem: "RubyGems"}
	rackOther := Query{Name: "rack", Version: "2.2.5", Ecosystem: "RubyGems"}
	snapshot := Query{Name: "org.example:lib", Version: "1.0-SNAPSHOT", Ecosystem: "Maven"}
	release := Query{Name: "org.example:lib", Version: "1.0", Ecosystem: "Maven"}
	withdrawn := Query{Name: "example.com/withdrawn", Version: "v1.0.0", Ecosystem: "Go"}
	xtext := Query{Name: "golang.org/x/text", Version: "v0.3.7", Ecosystem: "Go"}
	stdlib := Query{Name: "stdlib", Version: "go1.21.3", Ecosystem: "Go"}
	stdlibFixed := Query{Name: "stdlib", Version: "go1.21.4", Ecosystem: "Go"}
	almaLibs := Query{Name: "openssl-libs", Version: "1:3.0.7-18.el9_2", Ecosystem: "AlmaLinux:9", SourceName: "openssl"}
	curl := Query{Name: "libcurl4", Version: "7.81.0-1ubuntu1.10", Ecosystem: "Ubuntu:22.04", SourceName: "curl"}
	smallvecOld := Query{Name: "smallvec", Version: "0.6.13", Ecosystem: "crates.io"}
	smallvecGap := Query{Name: "smallvec", Version: "0.7.0", Ecosystem: "crates.io"}
	smallvecNew := Query{Name: "smallvec", Version: "1.6.0", Ecosystem: "crates.io"}
	gitonly := Query{Name: "gitonly", Version: "1.0.0", Ecosystem: "crates.io"}
	nuget := Query{Name: "Newtonsoft.Json", Version: "12.0.1", Ecosystem: "NuGet"}
	noRelease := Query{Name: "openssl", Version: "3.0.11-1", Ecosystem: "Debian"}
	badVersion := Query{Name: "openssl", Version: "not a version", Ecosystem: "Debian:12"}

	queries := []Query{libssl, libsslFixed, shadowOld, shadowNoEpoch, epochy, busybox, busyboxFixed, busybox318,
		leftPadLast, leftPadAfter, jinjaIn, jinjaDev, jinjaLimit, rackListed, rackOther, snapshot, release,
		withdrawn, xtext, stdlib, stdlibFixed, almaLibs, curl, smallvecOld, smallvecGap, smallvecNew,
		gitonly, nuget, noRelease, badVersion}
	findings, unevaluated, err := db.Match(context.Background(), queries)
	if err != nil {
		t.Fatal(err)
	}
	want := []Finding{
		{IDs: []string{"CVE-2023-5363", "DSA-5532-1"}, Summary: "openssl security update", Package: libssl,
			AffectedRange: ">=0, <3.0.11-1~deb12u2", FixedVersion: "3.0.11-1~deb12u2", Severity: "UNKNOWN",
			Record: "DSA-5532-1", Records: []string{"DSA-5532-1"}},
		{IDs: []string{"DSA-9000-1"}, Package: shadowOld,
			AffectedRange: ">=0, <1:4.13+dfsg1-1+deb12u1", FixedVersion: "1:4.13+dfsg1-1+deb12u1", Severity: "MEDIUM",
			Record: "DSA-9000-1", Records: []string{"DSA-9000-1"}},
		// The source version defaults to the binary's, which lacks the epoch.
		{IDs: []string{"DSA-9000-1"}, Package: shadowNoEpoch,
			AffectedRange: ">=0, <1:4.13+dfsg1-1+deb12u1", FixedVersion: "1:4.13+dfsg1-1+deb12u1", Severity: "MEDIUM",
			Record: "DSA-9000-1", Records: []string{"DSA-9000-1"}},
		{IDs: []string{"CVE-2023-42366", "ALPINE-CVE-2023-42366"}, Package: busybox,
			AffectedRange: ">=0, <1.36.1-r10", FixedVersion: "1.36.1-r10", Severity: "UNKNOWN",
			Record: "ALPINE-CVE-2023-42366", Records: []string{"ALPINE-CVE-2023-42366"}},
		{IDs: []string{"GHSA-last-affd-0001"}, Package: leftPadLast,
			AffectedRange: ">=1.0.0, <=1.3.0", Severity: "CRITICAL", CVSS: 9.8,
			Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
			Record: "GHSA-last-affd-0001", Records: []string{"GHSA-last-affd-0001"}},
		{IDs: []string{"PYSEC-2099-1"}, Package: jinjaIn,
			AffectedRange: ">=2.0, <3.0 (limit)", Severity: "UNKNOWN",
			Record: "PYSEC-2099-1", Records: []string{"PYSEC-2099-1"}},
		{IDs: []string{"GHSA-expl-icit-0001"}, Package: rackListed,
			AffectedRange: "listed version 2.2.4", Severity: "UNKNOWN",
			Record: "GHSA-expl-icit-0001", Records: []string{"GHSA-expl-icit-0001"}},
		{IDs: []string{"GHSA-mvn0-snap-0001"}, Package: snapshot,
			AffectedRange: ">=0, <1.0", FixedVersion: "1.0", Severity: "UNKNOWN",
			Record: "GHSA-mvn0-snap-0001", Records: []string{"GHSA-mvn0-snap-0001"}},
		{IDs: []string{"CVE-2022-32149", "GHSA-69ch-w2m2-3vjp", "GO-2022-1059"},
			Summary: "golang.org/x/text/language Denial of service", Package: xtext,
			AffectedRange: ">=0, <0.3.8", FixedVersion: "0.3.8", Severity: "HIGH", CVSS: 7.5,
			Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
			Record: "GHSA-69ch-w2m2-3vjp", Records: []string{"GHSA-69ch-w2m2-3vjp", "GO-2022-1059"}},
		{IDs: []string{"GO-2023-2185"}, Package: stdlib,
			AffectedRange: ">=1.21.0-0, <1.21.4", FixedVersion: "1.21.4", Severity: "UNKNOWN",
			Record: "GO-2023-2185", Records: []string{"GO-2023-2185"}},
		{IDs: []string{"ALSA-2023:5209"}, Package: almaLibs,
			AffectedRange: ">=0, <1:3.0.7-24.el9", FixedVersion: "1:3.0.7-24.el9", Severity: "UNKNOWN",
			Record: "ALSA-2023:5209", Records: []string{"ALSA-2023:5209"}},
		{IDs: []string{"USN-6000-1"}, Package: curl,
			AffectedRange: ">=0, <7.81.0-1ubuntu1.13", FixedVersion: "7.81.0-1ubuntu1.13", Severity: "MEDIUM",
			Record: "USN-6000-1", Records: []string{"USN-6000-1"}},
		{IDs: []string{"RUSTSEC-2099-0001"}, Package: smallvecOld,
			AffectedRange: ">=0.6.0, <0.6.14", FixedVersion: "0.6.14", Severity: "UNKNOWN",
			Record: "RUSTSEC-2099-0001", Records: []string{"RUSTSEC-2099-0001"}},
		{IDs: []string{"RUSTSEC-2099-0001"}, Package: smallvecNew,
			AffectedRange: ">=1.0.0, <1.6.1", FixedVersion: "1.6.1", Severity: "UNKNOWN",
			Record: "RUSTSEC-2099-0001", Records: []string{"RUSTSEC-2099-0001"}},
	}
	t.Logf("%d findings, %d unevaluated", len(findings), len(unevaluated))
	if !reflect.DeepEqual(findings, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", js(findings), js(want))
	}
	wantU := []Unevaluated{
		{Package: gitonly, Record: "OSV-2099-1", Reason: "only GIT ranges, which need the source tree"},
		{Package: nuget, Reason: `no version ordering for ecosystem "NuGet"`},
		{Package: noRelease, Reason: `ecosystem "Debian" names no release; Debian records are per release`},
		{Package: badVersion, Reason: `invalid debian version "not a version": upstream_version must start with digit`},
	}
	if !reflect.DeepEqual(unevaluated, wantU) {
		t.Errorf("unevaluated:\n%s\nwant:\n%s", js(unevaluated), js(wantU))
	}
}

func js(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

// TestMatchOtherRelease is the positive control for release matching: the
// Debian 11 inventory gets the Debian 11 records and the Debian 11 fix.
func TestMatchOtherRelease(t *testing.T) {
	db := openFixtureDB(t)
	q := Query{Name: "libssl1.1", Version: "1.1.1n-0+deb11u5", Ecosystem: "Debian:11", SourceName: "openssl"}
	findings, unevaluated, err := db.Match(context.Background(), []Query{q})
	if err != nil {
		t.Fatal(err)
	}
	want := []Finding{
		{IDs: []string{"CVE-2023-2650", "DLA-3530-1"}, Package: q, AffectedRange: ">=0, <9:9.9.9-1",
			FixedVersion: "9:9.9.9-1", Severity: "UNKNOWN", Record: "DLA-3530-1", Records: []string{"DLA-3530-1"}},
		{IDs: []string{"CVE-2023-5363", "DSA-5532-1"}, Summary: "openssl security update", Package: q,
			AffectedRange: ">=0, <1.1.1w-0+deb11u1", FixedVersion: "1.1.1w-0+deb11u1", Severity: "UNKNOWN",
			Record: "DSA-5532-1", Records: []string{"DSA-5532-1"}},
	}
	if !reflect.DeepEqual(findings, want) || len(unevaluated) != 0 {
		t.Errorf("findings:\n%s\nwant:\n%s\nunevaluated: %v", js(findings), js(want), unevaluated)
	}
}

// TestMatchAliasChain merges records linked only through a third id, and
// keeps the highest fixed version the records give.
func TestMatchAliasChain(t *testing.T) {
	dir := t.TempDir()
	recs := map[string]string{
		"a.json": `{"id": "PYSEC-1", "modified": "2023-01-01T00:00:00Z", "aliases": ["GHSA-aaaa-bbbb-cccc"],
		  "affected": [{"package": {"ecosystem": "PyPI", "name": "pkg"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1"}]}]}]}`,
		"b.json": `{"id": "GHSA-aaaa-bbbb-cccc", "modified": "2023-01-01T00:00:00Z", "aliases": ["CVE-2099-1"],
		  "affected": [{"package": {"ecosystem": "PyPI", "name": "pkg"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2"}]}]}]}`,
		"c.json": `{"id": "OSV-3", "modified": "2023-01-01T00:00:00Z", "aliases": ["CVE-2099-1"],
		  "affected": [{"package": {"ecosystem": "PyPI", "name": "pkg"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}`,
		"d.json": `{"id": "PYSEC-9", "modified": "2023-01-01T00:00:00Z",
		  "affected": [{"package": {"ecosystem": "PyPI", "name": "pkg"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5"}]}]}]}`,
	}
	for name, body := range recs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db, err := Open(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Import(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	q := Query{Name: "PKG", Version: "1.0", Ecosystem: "PyPI"}
	findings, _, err := db.Match(context.Background(), []Query{q})
	if err != nil {
		t.Fatal(err)
	}
	want := []Finding{
		{IDs: []string{"CVE-2099-1", "GHSA-aaaa-bbbb-cccc", "OSV-3", "PYSEC-1"}, Package: q, AffectedRange: ">=0, <1.2",
			FixedVersion: "1.2", Severity: "UNKNOWN", Record: "GHSA-aaaa-bbbb-cccc",
			Records: []string{"GHSA-aaaa-bbbb-cccc", "OSV-3", "PYSEC-1"}},
		{IDs: []string{"PYSEC-9"}, Package: q, AffectedRange: ">=0, <5", FixedVersion: "5", Severity: "UNKNOWN",
			Record: "PYSEC-9", Records: []string{"PYSEC-9"}},
	}
	if !reflect.DeepEqual(findings, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", js(findings), js(want))
	}
}

// TestMatchUnparseableRecord: a record whose range cannot be read under
// the ecosystem's ordering leaves the package unevaluated for that record,
// while other records still match.
func TestMatchUnparseableRecord(t *testing.T) {
	dir := t.TempDir()
	recs := map[string]string{
		"bad.json": `{"id": "DSA-1", "modified": "2023-01-01T00:00:00Z",
		  "affected": [{"package": {"ecosystem": "Debian:12", "name": "zlib"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "not-a-version"}]}]}]}`,
		"good.json": `{"id": "DSA-2", "modified": "2023-01-01T00:00:00Z",
		  "affected": [{"package": {"ecosystem": "Debian:12", "name": "zlib"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:1.2.13.dfsg-2"}]}]}]}`,
		"semver.json": `{"id": "GHSA-pypi-semv-0001", "modified": "2023-01-01T00:00:00Z",
		  "affected": [{"package": {"ecosystem": "PyPI", "name": "pkg"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "2.0.0"}]}]}]}`,
	}
	for name, body := range recs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db, err := Open(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Import(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	zlib := Query{Name: "zlib1g", Version: "1:1.2.13.dfsg-1", Ecosystem: "Debian:12", SourceName: "zlib"}
	pkgSemver := Query{Name: "pkg", Version: "1.5.0", Ecosystem: "PyPI"}
	pkgPEP := Query{Name: "pkg", Version: "1.5.dev0", Ecosystem: "PyPI"}
	findings, unevaluated, err := db.Match(context.Background(), []Query{zlib, pkgSemver, pkgPEP})
	if err != nil {
		t.Fatal(err)
	}
	want := []Finding{
		{IDs: []string{"DSA-2"}, Package: zlib, AffectedRange: ">=0, <1:1.2.13.dfsg-2", FixedVersion: "1:1.2.13.dfsg-2",
			Severity: "UNKNOWN", Record: "DSA-2", Records: []string{"DSA-2"}},
		{IDs: []string{"GHSA-pypi-semv-0001"}, Package: pkgSemver, AffectedRange: ">=0, <2.0.0", FixedVersion: "2.0.0",
			Severity: "UNKNOWN", Record: "GHSA-pypi-semv-0001", Records: []string{"GHSA-pypi-semv-0001"}},
	}
	wantU := []Unevaluated{
		{Package: zlib, Record: "DSA-1", Reason: `ranges[0]: fixed event: invalid debian version "not-a-version": upstream_version must start with digit`},
		{Package: pkgPEP, Record: "GHSA-pypi-semv-0001", Reason: `ranges[0] is SEMVER: invalid semver version "1.5.dev0": invalid semantic version`},
	}
	if !reflect.DeepEqual(findings, want) || !reflect.DeepEqual(unevaluated, wantU) {
		t.Errorf("findings:\n%s\nwant:\n%s\nunevaluated:\n%s\nwant:\n%s", js(findings), js(want), js(unevaluated), js(wantU))
	}
}
