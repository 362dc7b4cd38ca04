package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

const scanCritVector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" // 9.8

// writeTree writes files (path -> content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// scanDB imports OSV records into a new database and returns its path.
func scanDB(t *testing.T, bin string, records ...string) string {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"osv/all.json": "[" + strings.Join(records, ",") + "]"})
	db := filepath.Join(dir, "vuln.db")
	if _, errOut, code := vigil(t, bin, "db", "import", "--db", db, filepath.Join(dir, "osv")); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
	return db
}

func debRecord(id, name, vector, severity string) string {
	sev := ""
	if vector != "" {
		sev = fmt.Sprintf(`"severity":[{"type":"CVSS_V3","score":%q}],`, vector)
	}
	ds := ""
	if severity != "" {
		ds = fmt.Sprintf(`"database_specific":{"severity":%q},`, severity)
	}
	return fmt.Sprintf(`{"id":%q,"modified":"2026-01-01T00:00:00Z",%s%s"affected":[{"package":{"ecosystem":"Debian:12","name":%q},
		"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1:1.3-1"}]}]}]}`, id, sev, ds, name)
}

// scanJSON is the part of the JSON report the tests read.
type scanJSON struct {
	Target   struct{ Kind, Name, ID string }
	Packages int
	Runtime  *struct {
		Processes int
		Container *struct {
			ID         string
			Privileged bool
			CapAdd     []string
		}
	}
	Findings []struct {
		Score   float64
		Use     string
		Reasons []string
		Finding struct{ IDs []string }
		Package struct{ Name string }
	}
	Unevaluated []struct {
		Package struct{ Name string }
		Record  string
		Reason  string
	}
}

func decodeScan(t *testing.T, out string) scanJSON {
	t.Helper()
	var rep scanJSON
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	return rep
}

// TestScanRootFS: a root file system has no runtime facts; its findings
// say "not running", its unevaluated package is listed as such, and the
// filters and formats work.
func TestScanRootFS(t *testing.T) {
	bin := vigilBinary(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"etc/os-release":                      "ID=debian\nVERSION_ID=12\n",
		"var/lib/dpkg/status":                 "Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n\nPackage: libexpat1\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.5.0-1\n",
		"var/lib/dpkg/info/zlib1g:amd64.list": "/usr/lib/x86_64-linux-gnu/libz.so.1\n",
		"app/package-lock.json":               `{"lockfileVersion":3,"packages":{"node_modules/left-pad":{"version":"1.3.0"}}}`,
	})
	db := scanDB(t, bin,
		debRecord("DSA-0001-1", "zlib", scanCritVector, ""),
		debRecord("DSA-0002-1", "libexpat1", "", "medium"),
		`{"id":"GHSA-gggg-gggg-gggg","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"left-pad"},
			"ranges":[{"type":"GIT","repo":"https://example.invalid/left-pad","events":[{"introduced":"0"},{"fixed":"abc123"}]}]}]}`)

	out, errOut, code := vigil(t, bin, "scan", "rootfs", "--db", db, "--format", "json", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rep := decodeScan(t, out)
	if rep.Target.Kind != "rootfs" || rep.Packages != 3 || rep.Runtime != nil || len(rep.Findings) != 2 {
		t.Fatalf("report %+v", rep)
	}
	z, e := rep.Findings[0], rep.Findings[1]
	wantZ := []string{"base 9.8: CVSS " + scanCritVector, "×0.5: the target is not running, so whether zlib1g is used is unknown", "×1.1: fixed in 1:1.3-1"}
	if z.Package.Name != "zlib1g" || z.Finding.IDs[0] != "DSA-0001-1" || z.Score != 5.39 || z.Use != "not running" || !reflect.DeepEqual(z.Reasons, wantZ) {
		t.Errorf("zlib1g: %+v", z)
	}
	wantE := []string{"base 5.5: severity MEDIUM, no CVSS v3 vector", "×0.5: the target is not running, so whether libexpat1 is used is unknown", "×1.1: fixed in 1:1.3-1"}
	if e.Package.Name != "libexpat1" || e.Score != 3.03 || !reflect.DeepEqual(e.Reasons, wantE) {
		t.Errorf("libexpat1: %+v", e)
	}
	if len(rep.Unevaluated) != 1 || rep.Unevaluated[0].Package.Name != "left-pad" || rep.Unevaluated[0].Record != "GHSA-gggg-gggg-gggg" {
		t.Errorf("unevaluated %+v", rep.Unevaluated)
	}

	out, _, code = vigil(t, bin, "scan", "rootfs", "--db", db, "--min-score", "4", dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 5 ||
		lines[0] != "rootfs "+dir+": 3 packages, 2 findings (1 shown), 1 unevaluated; runtime: not running: no runtime facts" ||
		!strings.HasPrefix(lines[1], "RANK") ||
		strings.Join(strings.Fields(lines[2]), " ") != "1 5.39 CRITICAL DSA-0001-1 zlib1g 1:1.2.13.dfsg-1 1:1.3-1 not running ×0.5: the target is not running, so whether zlib1g is used is unknown; ×1.1: fixed in 1:1.3-1" ||
		lines[3] != "UNEVALUATED (unknown, not clean):" || !strings.HasPrefix(lines[4], "  left-pad 1.3.0 (npm) against GHSA-gggg-gggg-gggg: ") {
		t.Errorf("table (exit %d):\n%s", code, out)
	}
	out, _, _ = vigil(t, bin, "scan", "rootfs", "--db", db, "--format", "json", "--top", "1", dir)
	if rep := decodeScan(t, out); len(rep.Findings) != 1 || rep.Findings[0].Package.Name != "zlib1g" {
		t.Errorf("--top 1: %+v", rep.Findings)
	}

	for _, bad := range [][]string{
		{"scan", "rootfs", "--db", filepath.Join(dir, "none.db"), dir},
		{"scan", "rootfs", "--db", db, "--format", "xml", dir},
		{"scan", "rootfs", "--db", db, filepath.Join(dir, "missing")},
	} {
		if _, errOut, code := vigil(t, bin, bad...); code == 0 || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q", bad, code, errOut)
		}
	}
}

// TestScanContainer scans a running container whose busybox belongs to a
// vulnerable dpkg package: busybox is executed by the container's
// process, which runs as root in a container with CAP_SYS_ADMIN.
func TestScanContainer(t *testing.T) {
	testutil.RequireDocker(t)
	bin := vigilBinary(t)
	out, err := exec.Command("docker", "run", "-d", "--network", "none", "--cap-add", "SYS_ADMIN", "vigil-test/busybox:1", "sleep", "300").Output()
	if err != nil {
		t.Fatalf("docker run: %v (run scripts/docker-up.sh)", err)
	}
	id := strings.TrimSpace(string(out))
	testutil.RunOnCleanup(t, "docker", "rm", "-f", id)
	tree := t.TempDir()
	writeTree(t, tree, map[string]string{
		"etc/os-release":                        "ID=debian\nVERSION_ID=12\n",
		"var/lib/dpkg/status":                   "Package: busybox-static\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.2.0-1\n",
		"var/lib/dpkg/info/busybox-static.list": "/bin/busybox\n",
	})
	if out, err := exec.Command("docker", "cp", tree+"/.", id+":/").CombinedOutput(); err != nil {
		t.Fatalf("docker cp: %v: %s", err, out)
	}
	pidText, err := exec.Command("docker", "inspect", "-f", "{{.State.Pid}}", id).Output()
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(pidText))
	db := scanDB(t, bin, debRecord("DSA-0003-1", "busybox-static", scanCritVector, ""))

	out2, errOut, code := vigil(t, bin, "scan", "container", "--db", db, "--format", "json", id[:12])
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rep := decodeScan(t, out2)
	if rep.Target.Kind != "container" || rep.Target.ID != id || rep.Runtime == nil || rep.Runtime.Processes != 1 ||
		rep.Runtime.Container == nil || rep.Runtime.Container.ID != id || rep.Runtime.Container.Privileged {
		t.Fatalf("report %+v", rep)
	}
	want := []string{
		"base 9.8: CVSS " + scanCritVector,
		"×1: busybox-static is executed as /bin/busybox by sleep (pid " + pid + ") which does not listen",
		"×1.3: the container has CAP_SYS_ADMIN",
		"×1.1: fixed in 1:1.3-1",
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Use != "executed" || rep.Findings[0].Score != 14.01 || !reflect.DeepEqual(rep.Findings[0].Reasons, want) {
		t.Fatalf("findings %+v\nwant reasons %q", rep.Findings, want)
	}
}
