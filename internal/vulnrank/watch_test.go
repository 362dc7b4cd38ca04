package vulnrank

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/container/dockerapi"
	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/internal/vulndb"
)

// TestWatcherAlertsOnce runs a container whose busybox belongs to a
// package with a critical vulnerability: the first pass raises one alert
// naming the process that executes it, the second raises none.
func TestWatcherAlertsOnce(t *testing.T) {
	testutil.RequireDocker(t)
	out, err := exec.Command("docker", "run", "-d", "--network", "none", "vigil-test/busybox:1", "sleep", "300").Output()
	if err != nil {
		t.Fatalf("docker run: %v (run scripts/docker-up.sh)", err)
	}
	id := strings.TrimSpace(string(out))
	testutil.RunOnCleanup(t, "docker", "rm", "-f", id)
	tree := t.TempDir()
	for name, body := range map[string]string{
		"etc/os-release":                        "ID=debian\nVERSION_ID=12\n",
		"var/lib/dpkg/status":                   "Package: busybox-static\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.2.0-1\n",
		"var/lib/dpkg/info/busybox-static.list": "/bin/busybox\n",
	} {
		if err := os.MkdirAll(filepath.Join(tree, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tree, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("docker", "cp", tree+"/.", id+":/").CombinedOutput(); err != nil {
		t.Fatalf("docker cp: %v: %s", err, out)
	}
	inspect, err := exec.Command("docker", "inspect", "-f", "{{.State.Pid}} {{.Name}}", id).Output()
	if err != nil {
		t.Fatal(err)
	}
	pidText, name, _ := strings.Cut(strings.TrimSpace(string(inspect)), " ")
	pid, _ := strconv.Atoi(pidText)
	name = strings.TrimPrefix(name, "/")

	dbDir := t.TempDir()
	rec := fmt.Sprintf(`{"id":"VR-CRIT-1","modified":"2026-01-01T00:00:00Z","severity":[{"type":"CVSS_V3","score":%q}],
		"affected":[{"package":{"ecosystem":"Debian:12","name":"busybox-static"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}`, critVector)
	if err := os.WriteFile(filepath.Join(dbDir, "rec.json"), []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(filepath.Join(dbDir, "v.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Import(context.Background(), filepath.Join(dbDir, "rec.json")); err != nil {
		t.Fatal(err)
	}

	var raised []Alert
	w := &Watcher{Source: dockerapi.New(testutil.DockerSocket, container.RuntimeDocker), DB: db,
		Alert: func(a Alert) { raised = append(raised, a) }}
	ours := func(as []Alert) []Alert {
		var o []Alert
		for _, a := range as {
			if a.Container.ID == id {
				o = append(o, a)
			}
		}
		return o
	}
	first, err := w.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := ours(first)
	want := fmt.Sprintf("container %s runs busybox-static 1:1.2.0-1 with critical vulnerability VR-CRIT-1 (score 11.27): ×1: busybox-static is executed as /bin/busybox by sleep (pid %d) which does not listen", name, pid)
	if len(got) != 1 || got[0].Message() != want || got[0].Ranked.Use != UseExecuted || len(ours(raised)) != 1 {
		t.Fatalf("first pass: %d alerts %+v\nwant %q", len(got), got, want)
	}
	second, err := w.Check(context.Background())
	if err != nil || len(ours(second)) != 0 {
		t.Fatalf("second pass: %v %+v", err, ours(second))
	}
}
