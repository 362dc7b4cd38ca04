package rules_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/testutil"
)

// seriousPriorities are the priorities the benign workload must not raise.
var seriousPriorities = map[string]bool{"Emergency": true, "Alert": true, "Critical": true, "Error": true, "Warning": true}

// benignEnv is what the steps of the benign workload share.
type benignEnv struct {
	dir string // a scratch directory

	mu         sync.Mutex
	containers map[string]bool // short ids of the containers the workload started
}

// addContainer records a container the workload started: alerts from it
// are the workload's.
func (e *benignEnv) addContainer(id string) {
	e.mu.Lock()
	e.containers[id[:12]] = true
	e.mu.Unlock()
}

// benignStep is one piece of ordinary work. Add steps to benignWorkload.
type benignStep struct {
	name string
	run  func(t *testing.T, e *benignEnv)
}

// benignWorkload is the work TestBenignWorkload does, in order.
var benignWorkload = []benignStep{
	{"go build", benignGoBuild},
	{"git", benignGit},
	{"containers", benignContainers},
	{"web server", benignWebServer},
	{"apt", benignApt},
	{"user shell session", benignShellSession},
}

// TestBenignWorkload runs ordinary work under `vigil run` with its
// default rules and configuration, and requires that no rule raises an
// alert at WARNING or above for it: building this project, git,
// containers started and stopped, a web server answering thousands of
// requests on loopback, apt without network, and a user's shell session.
// A rule that fires here is a rule to fix, not a test to loosen.
func TestBenignWorkload(t *testing.T) {
	requireBuilt(t)
	testutil.RequireDocker(t)
	ag := startAgent(t, false)
	_, start := ag.since(0)
	e := &benignEnv{dir: t.TempDir(), containers: map[string]bool{}}
	for _, s := range benignWorkload {
		t.Run(s.name, func(t *testing.T) { s.run(t, e) })
	}
	select {
	case <-time.After(settle):
	case <-ag.done:
	}
	alerts, _ := ag.since(start)
	self := uint32(os.Getpid())
	// The kernel's name for this test binary, which every process of the
	// workload (but those in containers) descends from.
	comm := filepath.Base(os.Args[0])
	if len(comm) > 15 {
		comm = comm[:15]
	}
	var bad, seen int
	for _, a := range alerts {
		p := a.Context.Process
		if !e.containers[a.Context.Identity.ContainerID] && p.PID != self && !slices.Contains(p.Ancestors, comm) {
			continue // another process on the machine
		}
		seen++
		if seriousPriorities[a.Priority] {
			bad++
			t.Errorf("%s (%s): %s", a.Rule, a.Priority, a.Output)
		} else {
			t.Logf("%s (%s): %s", a.Rule, a.Priority, a.Output)
		}
	}
	if bad == 0 {
		t.Logf("no alert at WARNING or above among the workload's %d alerts (%d on the machine meanwhile)", seen, len(alerts))
	}
}

func benignGoBuild(t *testing.T, e *benignEnv) {
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..", "..", "..")
	cmd := exec.Command("go", "build", "-o", filepath.Join(e.dir, "vigil"), "./cmd/vigil")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}

func benignGit(t *testing.T, e *benignEnv) {
	repo := filepath.Join(e.dir, "repo")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	script := `set -e
git init -q -b main .
git config user.email dev@example.com
git config user.name Dev
printf 'package main\n\nfunc main() {}\n' > main.go
git add main.go && git commit -q -m "first"
git checkout -q -b feature
echo '// more' >> main.go
git commit -q -am "second"
git log --oneline | wc -l
git diff main --stat
git checkout -q main && git merge -q --no-edit feature
git status --short
git tag v0.1.0 && git describe --tags
git stash list
git gc -q
`
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "HOME="+e.dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git: %v\n%s", err, out)
	}
}

func benignContainers(t *testing.T, e *benignEnv) {
	for i := range 3 {
		out, err := exec.Command(docker, "create", image, "sh", "-c", fmt.Sprintf("echo hello %d; ls / > /dev/null; id; sleep 1", i)).Output()
		if err != nil {
			t.Fatalf("docker create: %v", err)
		}
		id := strings.TrimSpace(string(out))
		e.addContainer(id)
		if out, err := exec.Command(docker, "start", "-a", id).CombinedOutput(); err != nil {
			t.Fatalf("docker start: %v %s", err, out)
		}
		if out, err := exec.Command(docker, "rm", id).CombinedOutput(); err != nil {
			t.Logf("docker rm: %v %s", err, out)
		}
	}
	out, err := exec.Command(docker, "run", "-d", image, "sleep", "60").Output()
	if err != nil {
		t.Fatalf("docker run: %v", err)
	}
	id := strings.TrimSpace(string(out))
	e.addContainer(id)
	mustRun(t, exec.Command(docker, "exec", id, "ls", "/etc"))
	mustRun(t, exec.Command(docker, "stop", "-t", "1", id))
	mustRun(t, exec.Command(docker, "rm", id))
}

func benignWebServer(t *testing.T, e *benignEnv) {
	site := filepath.Join(e.dir, "www")
	if err := os.MkdirAll(site, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(site, "index.html"), []byte("<h1>hello</h1>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil { // only picked a free port for httpd
		t.Fatal(err)
	}
	srv := exec.Command("/bin/busybox", "httpd", "-f", "-p", addr, "-h", site)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer testutil.KillAndWait(srv)
	client := &http.Client{Timeout: 5 * time.Second}
	var ok int
	for deadline := time.Now().Add(10 * time.Second); ok < 3000; {
		resp, err := client.Get("http://" + addr + "/index.html")
		if err != nil {
			if ok == 0 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			t.Fatalf("after %d requests: %v", ok, err)
		}
		resp.Body.Close()
		ok++
	}
	for range 20 { // and a few from curl, as scripts and health checks do
		mustRun(t, exec.Command("curl", "-sf", "-o", "/dev/null", "http://"+addr+"/"))
	}
}

func benignApt(t *testing.T, e *benignEnv) {
	mustRun(t, exec.Command("apt-cache", "policy", "bash", "coreutils"))
	mustRun(t, exec.Command("apt-get", "-s", "install", "busybox-static"))
	mustRun(t, exec.Command("apt-get", "-s", "-o", "Debug::NoLocking=1", "upgrade"))
	mustRun(t, exec.Command("dpkg", "-l", "bash"))
}

func benignShellSession(t *testing.T, e *benignEnv) {
	home := filepath.Join(e.dir, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	script := `cd ~
echo "export EDITOR=vi" > notes.txt
ls -la / /usr/bin | head -n 5
ps aux | grep -c .
cat /etc/os-release | head -n 2
grep -i root /etc/passwd | cut -d: -f1
find /usr/share/doc -maxdepth 1 -name 'b*' | sort | head -n 3
df -h / | tail -n 1
uname -a; id; whoami; date; uptime
env | sort | head -n 3
which ls bash sh
tar czf notes.tgz notes.txt && tar tzf notes.tgz
mkdir -p project/src && cp notes.txt project/src/ && mv project/src/notes.txt project/src/readme.txt
sed -i 's/vi/vim/' project/src/readme.txt && wc -l project/src/readme.txt
sha256sum notes.txt | awk '{print $1}' | cut -c1-8
history | tail -n 1
rm -rf project notes.tgz
`
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = []string{"HOME=" + home, "USER=nobody", "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("shell session: %v\n%s", err, out)
	}
}
