package vulnrank

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/sbom"
	"github.com/vigilsec/vigil/internal/sbom/scan"
	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/internal/vulndb"
)

const critVector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" // 9.8

// fixture is a synthetic Debian 12 root whose dpkg database names files
// outside it (the helper's libraries), and a vulnerability database with
// one identical record per package.
type fixture struct {
	dir  string
	libs map[string]string // package -> the file it owns
	db   *vulndb.DB
}

func newFixture(t *testing.T, exe string, pkgs ...string) *fixture {
	t.Helper()
	fx := &fixture{dir: t.TempDir(), libs: map[string]string{}}
	root := filepath.Join(fx.dir, "root")
	write := func(path, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "etc/os-release"), "ID=debian\nVERSION_ID=\"12\"\n")
	var status strings.Builder
	var records []string
	for _, name := range append([]string{"vr-daemon"}, pkgs...) {
		file := exe
		if name != "vr-daemon" {
			file = filepath.Join(fx.dir, name+".so")
			write(file, strings.Repeat("\x7fELF", 1024))
			fx.libs[name] = file
		}
		fmt.Fprintf(&status, "Package: %s\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: amd64\n\n", name)
		write(filepath.Join(root, "var/lib/dpkg/info", name+".list"), file+"\n")
		records = append(records, fmt.Sprintf(`{"id":"VR-TEST-%s","modified":"2026-01-01T00:00:00Z",
 "severity":[{"type":"CVSS_V3","score":%q}],
 "affected":[{"package":{"ecosystem":"Debian:12","name":%q},
  "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.1-1"}]}]}]}`, name, critVector, name))
	}
	write(filepath.Join(root, "var/lib/dpkg/status"), status.String())
	write(filepath.Join(fx.dir, "osv", "all.json"), "["+strings.Join(records, ",\n")+"]")
	db, err := vulndb.Open(filepath.Join(fx.dir, "vuln.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Import(context.Background(), filepath.Join(fx.dir, "osv")); err != nil {
		t.Fatal(err)
	}
	fx.db = db
	return fx
}

// rank inventories the fixture root, matches it and ranks it with facts.
func (fx *fixture) rank(t *testing.T, facts *Facts) []Ranked {
	t.Helper()
	inv, err := scan.Scan(context.Background(), filepath.Join(fx.dir, "root"), scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	findings, unevaluated, err := fx.db.Match(context.Background(), Queries(inv))
	if err != nil || len(unevaluated) != 0 {
		t.Fatalf("match: %v, unevaluated %+v", err, unevaluated)
	}
	return Rank(inv, findings, facts, "/")
}

// netns creates a network namespace holding a veth interface with addr,
// removed when the test ends.
func netns(t *testing.T, addr string) string {
	t.Helper()
	_, err := exec.LookPath("ip")
	testutil.Require(t, os.Geteuid() == 0 && err == nil, "root and iproute2 (network namespaces)")
	name := fmt.Sprintf("vulnrank-%d", os.Getpid())
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	run("netns", "add", name)
	testutil.RunOnCleanup(t, "ip", "netns", "del", name)
	// Both ends of a veth pair inside the namespace: the kernel here has
	// no dummy driver, and nothing is added to the host's network.
	run("-n", name, "link", "add", "vr0", "type", "veth", "peer", "name", "vr1")
	run("-n", name, "addr", "add", addr+"/24", "dev", "vr0")
	run("-n", name, "link", "set", "vr0", "up")
	run("-n", name, "link", "set", "vr1", "up")
	run("-n", name, "link", "set", "lo", "up")
	return name
}

// TestRankByRuntime is the acceptance test: four packages with the same
// critical vulnerability, whose files are loaded by a process listening on
// an address of a test network namespace, by one listening on loopback,
// by one not listening, and by nothing. They rank in that order and the
// reasons say why.
func TestRankByRuntime(t *testing.T) {
	ns := netns(t, "10.203.7.1")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	fx := newFixture(t, exe, "libvr-public", "libvr-local", "libvr-quiet", "libvr-unused")
	public := startHelper(t, fx.libs["libvr-public"], "10.203.7.1:0", "nsenter", "--net=/run/netns/"+ns, "--")
	local := startHelper(t, fx.libs["libvr-local"], "127.0.0.1:0")
	quiet := startHelper(t, fx.libs["libvr-quiet"], "")

	facts, err := CollectProc(context.Background(), ProcOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ranked := fx.rank(t, facts)

	pid := func(h *helper) int { return h.cmd.Process.Pid }
	label := func(h *helper) string { return fmt.Sprintf("vulnrank.test (pid %d)", pid(h)) }
	base := "base 9.8: CVSS " + critVector
	fix := "×1.1: fixed in 1.1-1"
	want := []struct {
		name    string
		score   float64
		use     string
		reasons []string
	}{
		{"libvr-public", 18.6, UseLoaded, []string{base,
			"×1.5: libvr-public is loaded from " + fx.libs["libvr-public"] + " by " + label(public) + " which listens on " + public.addr + "/tcp",
			"×1.15: " + label(public) + " runs as root", fix}},
		{"vr-daemon", 18.6, UseExecuted, nil}, // its reasons are checked below
		{"libvr-local", 14.88, UseLoaded, []string{base,
			"×1.2: libvr-local is loaded from " + fx.libs["libvr-local"] + " by " + label(local) + " which listens on loopback only (" + local.addr + "/tcp)",
			"×1.15: " + label(local) + " runs as root", fix}},
		{"libvr-quiet", 12.4, UseLoaded, []string{base,
			"×1: libvr-quiet is loaded from " + fx.libs["libvr-quiet"] + " by " + label(quiet) + " which does not listen",
			"×1.15: " + label(quiet) + " runs as root", fix}},
		{"libvr-unused", 2.7, UseUnused, []string{base, "×0.25: no process uses libvr-unused", fix}},
	}
	if len(ranked) != len(want) {
		t.Fatalf("%d ranked findings, want %d: %+v", len(ranked), len(want), ranked)
	}
	for i, w := range want {
		r := ranked[i]
		if r.Package.Name != w.name || r.Score != w.score || r.Use != w.use || r.Finding.IDs[0] != "VR-TEST-"+w.name {
			t.Errorf("#%d: %s %v %s %v, want %s %v %s", i, r.Package.Name, r.Score, r.Use, r.Finding.IDs, w.name, w.score, w.use)
		}
		if w.reasons != nil && !reflect.DeepEqual(r.Reasons, w.reasons) {
			t.Errorf("#%d %s reasons:\n got %q\nwant %q", i, w.name, r.Reasons, w.reasons)
		}
	}
	// The test binary runs as the test and as three helpers; the exposed
	// helper is the one the reason names.
	d := ranked[1]
	wantExec := "×1.5: vr-daemon is executed as " + exe + " by " + label(public) + " which listens on " + public.addr + "/tcp (and 3 more processes)"
	if len(d.Reasons) != 4 || d.Reasons[1] != wantExec || len(d.Processes) != 4 {
		t.Errorf("vr-daemon: %q, %d processes; want reason %q", d.Reasons, len(d.Processes), wantExec)
	}
	if !strings.HasPrefix(public.addr, "10.203.7.1:") {
		t.Errorf("public helper listens on %s", public.addr)
	}
}

// TestRankNotRunning: without runtime facts (a root file system or an
// image) every finding is "not running" and keeps half its base.
func TestRankNotRunning(t *testing.T) {
	fx := newFixture(t, "/usr/bin/vr-daemon", "libvr-a")
	ranked := fx.rank(t, nil)
	want := []string{"base 9.8: CVSS " + critVector, "×0.5: the target is not running, so whether libvr-a is used is unknown", "×1.1: fixed in 1.1-1"}
	if len(ranked) != 2 || ranked[0].Package.Name != "libvr-a" || ranked[0].Score != 5.39 || ranked[0].Use != UseNotRunning || !reflect.DeepEqual(ranked[0].Reasons, want) {
		t.Fatalf("got %+v", ranked)
	}
}

// TestScoreFactors checks the factors that the host cannot show: the
// severity word without a vector, no fix, a privileged container, and
// merged-/usr paths.
func TestScoreFactors(t *testing.T) {
	proc := &Process{PID: 7, Comm: "nginx", UID: 101, Exe: "/usr/sbin/nginx", Mapped: []string{"/usr/lib/x86_64-linux-gnu/libssl.so.3"}}
	facts := &Facts{Processes: []Process{*proc}, Container: &ContainerFacts{ID: "c1", CapAdd: []string{"CAP_SYS_ADMIN"}}}
	ix := newUsageIndex(facts, pathNormalizer{"/lib/": "/usr/lib/"})
	uses := ix.uses(&sbomPkg)
	if len(uses) != 1 || uses[0].How != UseLoaded || uses[0].File != "/usr/lib/x86_64-linux-gnu/libssl.so.3" {
		t.Fatalf("uses %+v", uses)
	}
	r := score(vulndb.Finding{IDs: []string{"CVE-1"}, Severity: "HIGH"}, &sbomPkg, uses, facts)
	want := []string{
		"base 7.9: severity HIGH, no CVSS v3 vector",
		"×1: libssl3 is loaded from /usr/lib/x86_64-linux-gnu/libssl.so.3 by nginx (pid 7) which does not listen",
		"×1.3: the container has CAP_SYS_ADMIN",
		"×1: no fix known",
	}
	if r.Score != 10.27 || !reflect.DeepEqual(r.Reasons, want) {
		t.Fatalf("score %v reasons %q", r.Score, r.Reasons)
	}
	if r := score(vulndb.Finding{Severity: "bogus"}, &sbomPkg, nil, &Facts{}); r.Base != 5.5 || r.Score != 1.38 || r.Use != UseUnused {
		t.Fatalf("unknown severity: %+v", r)
	}
}

var sbomPkg = sbom.Package{Name: "libssl3", Version: "3.0.11-1~deb12u1", Type: sbom.TypeDeb, Files: []string{"/lib/x86_64-linux-gnu/libssl.so.3"}}
