package execguard

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

func docker(t *testing.T, args ...string) string {
	t.Helper()
	var stderr strings.Builder
	cmd := exec.Command("docker", args...)
	cmd.Stderr = &stderr // sh reports "Killed" there
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// TestKillInsideContainer kills a busybox copy by comm (and then files by
// inode, upper and lower overlay layer) inside a Docker container with
// rules scoped to containers, while the same program on the host runs.
func TestKillInsideContainer(t *testing.T) {
	testutil.RequireDocker(t)
	g := openGuard(t, Config{SkipArgv: true})
	recs := records(t, g)

	name := fmt.Sprintf("vigil-execguard-%d", os.Getpid())
	docker(t, "run", "-d", "--rm", "--name", name, "vigil-test/busybox:1", "sleep", "600")
	testutil.RunOnCleanup(t, "docker", "rm", "-f", name)
	pid, err := strconv.Atoi(docker(t, "inspect", "-f", "{{.State.Pid}}", name))
	if err != nil {
		t.Fatal(err)
	}
	cgid := cgroupIDOfPID(t, pid)
	if cgid == ownCgroupID(t) {
		t.Fatalf("container cgroup id %d is the test's own", cgid)
	}
	if err := g.SetContainer(cgid, true); err != nil {
		t.Fatal(err)
	}

	// busybox runs argv[1] as the applet when its own name starts with
	// "busybox", so a unique comm still creates a marker.
	comm := fmt.Sprintf("busybox%08x", uint32(os.Getpid())*2654435761)
	evil := "/tmp/" + comm
	docker(t, "exec", name, "cp", "/bin/busybox", evil)
	dev, ino, err := InodeOf(fmt.Sprintf("/proc/%d/root%s", pid, evil))
	if err != nil {
		t.Fatal(err)
	}
	lowerDev, lowerIno, err := InodeOf(fmt.Sprintf("/proc/%d/root/bin/busybox", pid))
	if err != nil {
		t.Fatal(err)
	}

	// runIn runs prog touch marker in the container, reporting the exit
	// status sh saw and whether the marker exists.
	runIn := func(prog, marker string) string {
		return docker(t, "exec", name, "sh", "-c",
			fmt.Sprintf("%s touch %s; echo rc=$?; test -e %s && echo created || echo absent", prog, marker, marker))
	}
	if out := runIn(evil, "/tmp/m0"); out != "rc=0\ncreated" {
		t.Fatalf("without rules: %q", out)
	}

	if err := g.SetKillRules([]KillRule{{ID: 41, Scope: Scope{Kind: ScopeContainers}, Comm: comm}}); err != nil {
		t.Fatal(err)
	}
	if out := runIn(evil, "/tmp/m1"); out != "rc=137\nabsent" {
		t.Fatalf("comm rule in the container: %q; want killed (137) before creating the marker", out)
	}
	got := recordWhere(t, recs, func(r KillRecord) bool { return r.RuleID == 41 })
	if got.Comm != comm || got.Filename != evil || got.CgroupID != cgid || got.Dev != dev || got.Ino != ino ||
		got.UID != 0 || !got.Killed() {
		t.Fatalf("record %+v; want comm %q, filename %q, cgroup %d, dev %d ino %d (stat through /proc/%d/root)",
			got, comm, evil, cgid, dev, ino, pid)
	}

	// The same program on the host is not in a container.
	host := testutil.CopyExecutable(t, "/bin/busybox", comm)
	marker := filepath.Join(t.TempDir(), "m")
	if out, err := exec.Command(host, "touch", marker).CombinedOutput(); err != nil || !exists(marker) {
		t.Fatalf("host copy: %v %s, marker %v; want a normal run", err, out, exists(marker))
	}

	// By identity: the upper-layer copy, as stat sees it through the
	// container's root.
	if err := g.SetKillRules([]KillRule{{ID: 42, Scope: Scope{Kind: ScopeContainers}, Dev: dev, Ino: ino}}); err != nil {
		t.Fatal(err)
	}
	if out := runIn(evil, "/tmp/m2"); out != "rc=137\nabsent" {
		t.Fatalf("inode rule on %s: %q; want killed", evil, out)
	}
	if got := recordWhere(t, recs, func(r KillRecord) bool { return r.RuleID == 42 }); got.Filename != evil ||
		got.Dev != dev || got.Ino != ino || got.CgroupID != cgid {
		t.Fatalf("record %+v; want %s with dev %d ino %d", got, evil, dev, ino)
	}

	// The image's own busybox sits in a lower layer. sh is busybox too, so
	// while this rule holds nothing else can run in the container.
	if err := g.SetKillRules([]KillRule{{ID: 43, Scope: Scope{Kind: ScopeCgroup, CgroupID: cgid}, Dev: lowerDev, Ino: lowerIno}}); err != nil {
		t.Fatal(err)
	}
	err = exec.Command("docker", "exec", name, "/bin/busybox", "touch", "/tmp/m3").Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 137 {
		t.Fatalf("inode rule on the lower-layer /bin/busybox: docker exec %v; want exit 137", err)
	}
	got = recordWhere(t, recs, func(r KillRecord) bool { return r.RuleID == 43 })
	if got.Filename != "/bin/busybox" || got.Dev != lowerDev || got.Ino != lowerIno || got.CgroupID != cgid || got.Comm != "busybox" {
		t.Fatalf("record %+v; want /bin/busybox with dev %d ino %d", got, lowerDev, lowerIno)
	}
	if err := g.SetKillRules(nil); err != nil {
		t.Fatal(err)
	}
	if out := docker(t, "exec", name, "sh", "-c", "test -e /tmp/m3 && echo created || echo absent"); out != "absent" {
		t.Fatalf("the killed busybox created its marker: %q", out)
	}
}
