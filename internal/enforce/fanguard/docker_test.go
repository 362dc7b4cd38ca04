package fanguard

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

// TestDockerExecBlock marks a container's root mount through
// /proc/<pid>/root and denies one file inside it: the container's exec of
// that file fails and leaves no trace, other execs run, and only files of
// the container's own mount are asked about.
func TestDockerExecBlock(t *testing.T) {
	testutil.RequireDocker(t)
	out, err := exec.Command("docker", "run", "-d", "--rm", "--network", "none", "vigil-test/busybox:1", "sleep", "300").Output()
	if err != nil {
		t.Fatalf("docker run: %v", err)
	}
	id := strings.TrimSpace(string(out))
	testutil.RunOnCleanup(t, "docker", "rm", "-f", id)
	out, err = exec.Command("docker", "inspect", "-f", "{{.State.Pid}}", id).Output()
	if err != nil {
		t.Fatalf("docker inspect: %v", err)
	}
	root := fmt.Sprintf("/proc/%s/root", strings.TrimSpace(string(out)))
	// busybox applets are links to /bin/busybox, so a copy is the only
	// file that is "evil" and nothing else. It keeps the name busybox, which
	// busybox needs to take its applet from argv[1].
	const evil = "/tmp/evil/busybox"
	if out, err := exec.Command("docker", "exec", id, "sh", "-c", "mkdir /tmp/evil && cp /bin/busybox "+evil).CombinedOutput(); err != nil {
		t.Fatalf("docker exec cp: %v: %s", err, out)
	}
	evilDev, evilIno := statOf(t, root+evil)
	rootDev, _ := statOf(t, root+"/")

	rec := &recorder{decide: func(r *Request) Verdict {
		return Verdict{Allow: r.Dev != evilDev || r.Ino != evilIno}
	}}
	g := startGuard(t, Config{Decide: rec.Decide, CacheSize: -1})
	if err := g.WatchExecMount(root); err != nil {
		t.Fatal(err)
	}

	out, err = exec.Command("docker", "exec", id, evil, "touch", "/tmp/marker").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "operation not permitted") {
		t.Fatalf("denied exec inside the container: %v: %s, want it refused with EPERM", err, out)
	}
	if _, err := os.Stat(root + "/tmp/marker"); !os.IsNotExist(err) {
		t.Fatalf("marker of the denied program: %v, want it absent", err)
	}
	if out, err := exec.Command("docker", "exec", id, "/bin/touch", "/tmp/ok").CombinedOutput(); err != nil {
		t.Fatalf("allowed exec inside the container: %v: %s", err, out)
	}
	if !fileExists(root + "/tmp/ok") {
		t.Fatal("allowed program did not run")
	}

	var sawEvil, sawBusybox bool
	for _, r := range rec.requests() {
		if r.Kind != Exec || r.Dev != rootDev {
			t.Errorf("request outside the container's mount: %+v", r)
		}
		switch {
		case r.Dev == evilDev && r.Ino == evilIno:
			sawEvil = true
			// The overlay is not reachable from our root, so the
			// path is relative to the container's root mount.
			if r.Path != evil {
				t.Errorf("evil exec path %q, want %s", r.Path, evil)
			}
		case r.Path == "/bin/busybox":
			sawBusybox = true
		}
	}
	if !sawEvil || !sawBusybox {
		t.Errorf("requests %+v: want the denied %s and the allowed /bin/busybox", rec.requests(), evil)
	}
	if st := g.Stats(); st.Denied != 1 || st.Allowed == 0 {
		t.Errorf("stats %+v, want one denial", counts(st))
	}
	if err := g.UnwatchExecMount(root); err != nil {
		t.Fatal(err)
	}
	// The same command runs once unwatched: the denial above was ours.
	if out, err := exec.Command("docker", "exec", id, evil, "touch", "/tmp/marker").CombinedOutput(); err != nil {
		t.Fatalf("exec after UnwatchExecMount: %v: %s", err, out)
	}
	if !fileExists(root + "/tmp/marker") {
		t.Fatal("program did not run after UnwatchExecMount")
	}
}
