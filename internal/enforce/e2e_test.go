package enforce

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/container"
	"github.com/vigilsec/vigil/internal/container/dockerapi"
	"github.com/vigilsec/vigil/internal/testutil"
)

// e2eRules holds every kind of enforcement, filled in per run: NAME words
// are unique program names, PORT and HOSTPORT loopback ports, SECRET a
// file.
const e2eRules = `
- rule: Kill doomed sleeper
  desc: a process whose argv says so is killed after detection
  condition: evt.type = execve and evt.rawres = 0 and proc.name = SLEEPNAME and proc.args = "31"
  output: doomed (cmd=%proc.cmdline)
  priority: critical
  action: kill

- rule: Kill marker writer in the kernel
  desc: a program named in a deny set dies at exec
  condition: evt.type = execve and proc.name = TOUCHNAME
  output: killer (cmd=%proc.cmdline)
  priority: critical
  action: kill

- rule: Block evil binary in containers
  desc: a dropped binary cannot run
  condition: evt.type = execve and container.id != host and proc.exepath = /tmp/evil/busybox
  output: evil exec blocked (cmd=%proc.cmdline container=%container.id)
  priority: critical
  action: block

- rule: Block netcat with -e
  desc: nc -e hands a shell to the network
  condition: evt.type = execve and container.id != host and proc.name = nc and proc.args contains "-e"
  output: nc -e (cmd=%proc.cmdline)
  priority: critical
  action: block

- rule: Audit wget in containers
  desc: would block wget
  condition: evt.type = execve and container.id != host and proc.name = wget
  output: wget (cmd=%proc.cmdline)
  priority: warning
  action: block
  mode: audit

- rule: Block port from containers
  desc: no container may reach this port
  condition: evt.type = connect and container.id != host and fd.rport = PORT
  output: container connect (dest=%fd.name container=%container.id)
  priority: critical
  action: block

- rule: Block host port
  desc: nothing on the host may reach this port, Vigil excepted
  condition: evt.type = connect and container.id = host and fd.rport = HOSTPORT
  output: host connect (proc=%proc.name dest=%fd.name)
  priority: critical
  action: block

- rule: Stop the container on nsenter
  desc: a container that runs this program is stopped
  condition: evt.type = execve and container.id != host and proc.name = ESCAPENAME
  output: escape attempt (cmd=%proc.cmdline container=%container.id)
  priority: critical
  action: kill-container

- rule: Block fileless execution on the host
  desc: a memfd exec dies before it runs; audit here, because the machine's own tools may run from memfds
  condition: evt.type in (execve, execveat) and evt.rawres = 0 and proc.is_exe_from_memfd = true and container.id = host
  output: fileless (exe=%proc.exepath pid=%proc.pid)
  priority: critical
  action: block
  mode: audit

- rule: Block secret reads by cat
  desc: cat may not read the secret
  condition: evt.type in (open, openat, openat2) and fd.name = SECRET and proc.name = cat
  output: secret read (proc=%proc.name file=%fd.name)
  priority: critical
  action: block
`

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestEnforcement runs one agent with every kind of action and checks
// each against real processes and containers.
func TestEnforcement(t *testing.T) {
	testutil.RequireBPF(t)
	id := startContainer(t) // before the agent: found by the first cgroup scan
	dir := t.TempDir()
	sleepName, touchName := uniqueName("vgs"), uniqueName("vgt")
	sleeper := testutil.CopyExecutable(t, "/bin/sleep", filepath.Join(dir, sleepName))
	toucher := testutil.CopyExecutable(t, "/bin/touch", filepath.Join(dir, touchName))
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("s3cr3t\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port, hostPort := freePort(t), freePort(t)
	escapeName := uniqueName("vge")
	rules := strings.NewReplacer("ESCAPENAME", escapeName, "SLEEPNAME", sleepName, "TOUCHNAME", touchName, "HOSTPORT", strconv.Itoa(hostPort),
		"PORT", strconv.Itoa(port), "SECRET", secret).Replace(e2eRules)
	docker := dockerapi.New(testutil.DockerSocket, container.RuntimeDocker)
	r := startRig(t, rules, Config{KillContainer: func(ctx context.Context, _ container.Runtime, id string) error {
		return docker.Kill(ctx, id, "KILL")
	}})

	t.Run("kill after detection", func(t *testing.T) {
		cmd := exec.Command(sleeper, "31")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("sleeper ended with %v, want SIGKILL", err)
		}
		a := r.waitAlert(t, "Kill doomed sleeper", "killed")
		en := a.Enforcement
		if en.Mechanism != "pidfd" || en.Action != "kill" || en.Mode != "enforce" || en.ReactionNS <= 0 {
			t.Errorf("enforcement %+v", en)
		}
		if a.Context.Process.PID != uint32(cmd.Process.Pid) || a.Output != "[killed] doomed (cmd="+sleepName+" 31)" {
			t.Errorf("alert pid %d output %q", a.Context.Process.PID, a.Output)
		}
		t.Logf("reaction time from the kernel event to the kill: %v", time.Duration(en.ReactionNS))
		// Other arguments run to the end.
		if err := exec.Command(sleeper, "0.1").Run(); err != nil {
			t.Errorf("spared sleeper: %v", err)
		}
	})

	t.Run("kill in the kernel", func(t *testing.T) {
		marker := filepath.Join(dir, "touched")
		cmd := exec.Command(toucher, marker)
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("toucher ended with %v, want SIGKILL", err)
		}
		if fileExists(marker) {
			t.Error("the killed program wrote its marker")
		}
		a := r.waitAlert(t, "Kill marker writer in the kernel", "killed")
		if en := a.Enforcement; en.Mechanism != "bpf-send-signal" {
			t.Errorf("enforcement %+v", en)
		}
		if a.Context.Process.PID != uint32(cmd.Process.Pid) {
			t.Errorf("alert pid %d, want %d", a.Context.Process.PID, cmd.Process.Pid)
		}
		time.Sleep(300 * time.Millisecond) // let the sensor's view of the exec through
		if n := r.count("Kill marker writer in the kernel"); n != 1 {
			t.Errorf("%d alerts, want 1:\n%s", n, r.describe())
		}
	})

	t.Run("block exec in a container", func(t *testing.T) {
		mustDockerExec(t, id, "/bin/busybox", "mkdir", "-p", "/tmp/evil")
		mustDockerExec(t, id, "cp", "/bin/busybox", "/tmp/evil/busybox")
		out, err := dockerExec(id, "/tmp/evil/busybox", "touch", "/tmp/marker")
		if err == nil || !strings.Contains(strings.ToLower(out), "operation not permitted") {
			t.Fatalf("blocked exec: err %v, output %q", err, out)
		}
		if _, err := dockerExec(id, "test", "-e", "/tmp/marker"); err == nil {
			t.Error("the blocked program wrote its marker")
		}
		a := r.waitAlert(t, "Block evil binary in containers", "blocked")
		if a.Context.Identity.ContainerID != id[:12] || a.Enforcement.Mechanism != "fanotify-exec" {
			t.Errorf("alert container %q enforcement %+v", a.Context.Identity.ContainerID, a.Enforcement)
		}
		if want := "[blocked] evil exec blocked (cmd=busybox touch /tmp/marker container=" + id[:12] + ")"; a.Output != want {
			t.Errorf("output %q\nwant %q", a.Output, want)
		}
		// The image's own busybox still runs.
		mustDockerExec(t, id, "touch", "/tmp/ok")
	})

	t.Run("block exec by argv", func(t *testing.T) {
		mustDockerExec(t, id, "/bin/busybox", "ln", "-sf", "/bin/busybox", "/tmp/nc")
		out, err := dockerExec(id, "/tmp/nc", "-e", "/bin/sh", "127.0.0.1", "9")
		if err == nil || !strings.Contains(strings.ToLower(out), "operation not permitted") {
			t.Fatalf("nc -e: err %v, output %q", err, out)
		}
		a := r.waitAlert(t, "Block netcat with -e", "blocked")
		if a.Output != "[blocked] nc -e (cmd=nc -e /bin/sh 127.0.0.1 9)" {
			t.Errorf("output %q", a.Output)
		}
		// The same program with other arguments runs (and fails to
		// connect, as nothing listens).
		out, _ = dockerExec(id, "/tmp/nc", "-w", "1", "127.0.0.1", "9")
		if strings.Contains(strings.ToLower(out), "not permitted") {
			t.Errorf("plain nc was blocked: %q", out)
		}
	})

	t.Run("audit exec", func(t *testing.T) {
		mustDockerExec(t, id, "/bin/busybox", "ln", "-sf", "/bin/busybox", "/tmp/wget")
		out, _ := dockerExec(id, "/tmp/wget", "-q", "-T", "1", "http://127.0.0.1:9/")
		if strings.Contains(strings.ToLower(out), "not permitted") {
			t.Fatalf("audit mode blocked wget: %q", out)
		}
		a := r.waitAlert(t, "Audit wget in containers", "would-block")
		if a.Enforcement.Mode != "audit" || !strings.HasPrefix(a.Output, "[would-block] wget (cmd=wget -q -T 1") {
			t.Errorf("alert %q %+v", a.Output, a.Enforcement)
		}
	})

	t.Run("block connect from a container", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		out, err := dockerExec(id, "/tmp/nc", "-w", "1", "127.0.0.1", strconv.Itoa(port))
		if err == nil || !strings.Contains(strings.ToLower(out), "not permitted") {
			t.Fatalf("container connect: err %v output %q", err, out)
		}
		a := r.waitAlert(t, "Block port from containers", "blocked")
		if a.Context.Identity.ContainerID != id[:12] || a.Enforcement.Mechanism != "cgroup-sock-addr" {
			t.Errorf("alert %+v %+v", a.Context.Identity, a.Enforcement)
		}
		// The host is not in scope: a host process reaches the listener.
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatalf("host connect: %v", err)
		}
		_ = c.Close() // the connect was the test
		if out, err := exec.Command("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/"+strconv.Itoa(port)).CombinedOutput(); err != nil {
			t.Errorf("host child connect: %v %s", err, out)
		}
	})

	t.Run("vigil itself is never blocked", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(hostPort))
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		out, err := exec.Command("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/"+strconv.Itoa(hostPort)).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "not permitted") {
			t.Fatalf("host child connect: err %v output %q", err, out)
		}
		r.waitAlert(t, "Block host port", "blocked")
		// The agent's own process matches the rule but is protected.
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatalf("the agent's own connect was blocked: %v", err)
		}
		_ = c.Close() // the connect was the test
		// So are its reads of a protected file.
		if _, err := os.ReadFile(secret); err != nil {
			t.Errorf("the agent's own read: %v", err)
		}
	})

	t.Run("block open", func(t *testing.T) {
		out, err := exec.Command("cat", secret).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "not permitted") {
			t.Fatalf("cat secret: err %v output %q", err, out)
		}
		a := r.waitAlert(t, "Block secret reads by cat", "blocked")
		if a.Output != "[blocked] secret read (proc=cat file="+secret+")" || a.Enforcement.Mechanism != "fanotify-open" {
			t.Errorf("alert %q %+v", a.Output, a.Enforcement)
		}
		out, err = exec.Command("head", secret).CombinedOutput()
		if err != nil || string(out) != "s3cr3t\n" {
			t.Errorf("head secret: %v %q", err, out)
		}
	})

	t.Run("fileless exec is judged in the kernel", func(t *testing.T) {
		const rule = "Block fileless execution on the host"
		mem := testutil.MemfdCopy(t, "/bin/touch", "vgfileless")
		marker := filepath.Join(dir, "fileless")
		cmd := exec.Command("/dev/fd/3", marker)
		cmd.ExtraFiles = []*os.File{mem}
		if err := cmd.Run(); err != nil || !fileExists(marker) {
			t.Fatalf("audited memfd exec: %v, marker %v; want a normal run", err, fileExists(marker))
		}
		pid := uint32(cmd.Process.Pid)
		var a *alert.Alert
		for deadline := time.Now().Add(10 * time.Second); a == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			a = r.findFor(rule, pid)
		}
		if a == nil {
			t.Fatalf("no alert for pid %d:\n%s", pid, r.describe())
		}
		if en := a.Enforcement; en == nil || en.Outcome != "would-kill" || en.Mechanism != "bpf-send-signal" || en.Action != "block" {
			t.Errorf("enforcement %+v, want would-kill by bpf-send-signal", a.Enforcement)
		}
		if !strings.HasPrefix(a.Output, "[would-kill] fileless (exe=/memfd:vgfileless") {
			t.Errorf("output %q", a.Output)
		}
		time.Sleep(1200 * time.Millisecond) // past the kernel record's hold
		if n := r.countFor(rule, pid); n != 1 {
			t.Errorf("%d alerts for pid %d, want 1:\n%s", n, pid, r.describe())
		}
	})

	t.Run("kill the container", func(t *testing.T) {
		victim := startContainer(t)
		mustDockerExec(t, victim, "cp", "/bin/busybox", "/tmp/"+escapeName)
		// The kill ends this exec: its error is the expected outcome,
		// which the alert below confirms.
		_, _ = dockerExec(victim, "/tmp/"+escapeName, "sleep", "5")
		a := r.waitAlert(t, "Stop the container on nsenter", "container-killed")
		if a.Context.Identity.ContainerID != victim[:12] || a.Enforcement.Mechanism != "runtime-api" || a.Enforcement.ReactionNS <= 0 {
			t.Errorf("alert %+v %+v", a.Context.Identity, a.Enforcement)
		}
		out, err := exec.Command("docker", "inspect", "-f", "{{.State.Running}}", victim).Output()
		if err == nil && strings.TrimSpace(string(out)) != "false" {
			t.Errorf("container still running: %s", out)
		}
		// The other container is untouched.
		mustDockerExec(t, id, "true")
	})

	t.Run("fail open", func(t *testing.T) {
		r.enf.failDecisions.Store(true)
		defer r.enf.failDecisions.Store(false)
		before := r.enf.Stats().FailOpen
		if out, err := dockerExec(id, "/tmp/evil/busybox", "true"); err != nil {
			t.Fatalf("exec with a failing decision path: %v %s", err, out)
		}
		a := r.waitAlert(t, "Vigil enforcement decision failed", "fail-open")
		if !strings.Contains(a.Output, "/tmp/evil/busybox") {
			t.Errorf("failure alert %q", a.Output)
		}
		if s := r.enf.Stats(); s.FailOpen <= before {
			t.Errorf("fail-open count %d, was %d", s.FailOpen, before)
		}
	})
}
