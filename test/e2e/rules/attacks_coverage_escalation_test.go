package rules_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

// escapeTool is where containers get the suite's escape helper.
const escapeTool = "/usr/local/bin/escape"

// coverageEscalationAttacks prove the privilege-escalation and container-escape rules of the coverage map (docs/coverage.md).
var coverageEscalationAttacks = []attack{
	{"Container runtime API contacted from a container", "Warning", "",
		"the suite's static escape helper (test/e2e/rules/escape; the busybox image has no HTTP client for a unix socket): GET /version on the Docker socket mounted into the container",
		func(t *testing.T, ag *agent, m string) result {
			w := runContainer(t, "vge2e-api-"+m, []string{"-v", "/var/run/docker.sock:/var/run/docker.sock",
				"-v", escapeProgram(t) + ":" + escapeTool + ":ro"}, escapeTool+" runtime-api /var/run/docker.sock "+m+"; true")
			return result{match: m, name: "escape", exe: escapeTool, in: w, fields: map[string]string{"fd.name": "/var/run/docker.sock"}}
		}},
	{"Container runtime API contacted from a container", "Warning", "Docker API port",
		"busybox wget of http://172.17.0.1:2375/containers/json, in the container (Docker's bridge gateway, added to the container's own loopback; nothing listens)",
		func(t *testing.T, ag *agent, m string) result {
			w := sharedContainer(t)
			mustRun(t, exec.Command(docker, "exec", w.id, "ip", "addr", "replace", "172.17.0.1/32", "dev", "lo"))
			// No -T: busybox 1.35's wget crashes when a connect with a
			// timeout is refused.
			inContainer(t, false, "/usr/bin/wget -q -O /dev/null http://172.17.0.1:2375/containers/json?"+m+"; true")
			return result{match: m, name: "wget", exe: busybox, in: w, check: func(t *testing.T, got *wireAlert) {
				if name := got.field("fd.name"); !strings.HasSuffix(name, "->172.17.0.1:2375") {
					t.Errorf("socket %s, want a connection to 172.17.0.1:2375", name)
				}
			}}
		}},
	{"Container started with a sensitive host path mounted", "Warning", "", "docker run -v /:/host",
		func(t *testing.T, ag *agent, m string) result {
			w := runContainer(t, "vge2e-hostfs-"+m, []string{"-v", "/:/host:ro"}, "true "+m)
			return result{match: m, name: "sh", exe: busybox, in: w, check: mountsContain("/:/host:")}
		}},
	{"Container started with a sensitive host path mounted", "Warning", "docker exec",
		"docker exec of busybox sh in a container with the Docker socket mounted",
		func(t *testing.T, ag *agent, m string) result {
			w := startContainer(t, "vge2e-sock-"+m, []string{"-v", "/var/run/docker.sock:/var/run/docker.sock"})
			mustRun(t, exec.Command(docker, "exec", w.id, "sh", "-c", "true "+m))
			// The idle entrypoint is in the container named after m too.
			return result{match: "-c true " + m, name: "sh", exe: busybox, in: w, check: mountsContain("/var/run/docker.sock:/var/run/docker.sock:")}
		}},
	{"Container started with escape-capable capabilities", "Warning", "", "docker run --cap-add SYS_PTRACE",
		func(t *testing.T, ag *agent, m string) result {
			w := runContainer(t, "vge2e-ptrace-"+m, []string{"--cap-add", "SYS_PTRACE"}, "true "+m)
			return result{match: m, name: "sh", exe: busybox, in: w, check: capsContain("CAP_SYS_PTRACE")}
		}},
	{"Container started with escape-capable capabilities", "Warning", "docker exec",
		"docker exec of busybox sh in a container started with --cap-add DAC_READ_SEARCH",
		func(t *testing.T, ag *agent, m string) result {
			w := startContainer(t, "vge2e-dacrs-"+m, []string{"--cap-add", "DAC_READ_SEARCH"})
			mustRun(t, exec.Command(docker, "exec", w.id, "sh", "-c", "true "+m))
			// The idle entrypoint is in the container named after m too.
			return result{match: "-c true " + m, name: "sh", exe: busybox, in: w, check: capsContain("CAP_DAC_READ_SEARCH")}
		}},
	{"Raw disk or memory device opened in a container", "Warning", "",
		"busybox dd reading a host loop device passed in with docker run --device",
		func(t *testing.T, ag *agent, m string) result {
			dev := loopDevice(t, m)
			name := "vge2e-disk-" + m
			w := runContainer(t, name, []string{"--device", dev}, "/bin/busybox dd if="+dev+" of=/dev/null bs=512 count=1; true")
			// dd's command line has no room for a marker: the container's
			// name carries it.
			return result{match: "container_name=" + name + " ", name: "busybox", exe: busybox, in: w,
				fields: map[string]string{"fd.name": dev}}
		}},
	{"Raw disk or memory device opened in a container", "Warning", "mknod",
		"busybox mknod of a loop block device node, in the container",
		func(t *testing.T, ag *agent, m string) result {
			node := "/tmp/" + m
			w := inContainer(t, false, "/usr/bin/mknod "+node+" b 7 0; rm -f "+node)
			return result{match: m, name: "mknod", exe: busybox, in: w, fields: map[string]string{"evt.arg.path": node}}
		}},
	{"Running executable opened for writing through /proc", "Critical", "",
		"busybox sh redirecting into /proc/self/exe, in the container (CVE-2019-5736's step; the kernel answers ETXTBSY)",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "echo "+m+" > /proc/self/exe; true")
			return result{match: m, name: "sh", exe: busybox, in: w, fields: map[string]string{"fd.name": "/proc/self/exe"}}
		}},
	{"Running executable opened for writing through /proc", "Critical", "another process",
		"python3 opening /proc/PID/exe of a running sleep read-write",
		func(t *testing.T, ag *agent, m string) result {
			python, exe := hostTool(t, "python3")
			victim := exec.Command("sleep", "60")
			if err := victim.Start(); err != nil {
				t.Fatal(err)
			}
			defer testutil.KillAndWait(victim)
			path := fmt.Sprintf("/proc/%d/exe", victim.Process.Pid)
			script := fmt.Sprintf("import sys\ntry:\n    open(%q, 'r+b')\nexcept OSError as e:\n    print(e)\n# %s", path, m)
			pid := run(t, exec.Command(python, "-c", script))
			return result{match: m, pid: pid, name: "python3", exe: exe, fields: map[string]string{"fd.name": path}}
		}},
	{"Set-user-ID program started without a name", "Warning", "",
		"the suite's escape helper, as nobody: execve of sudo with an empty argv (PwnKit's call; pkexec is not installed)",
		func(t *testing.T, ag *agent, m string) result {
			sudo, exe := hostTool(t, "sudo")
			pid := run(t, asNobody(exec.Command(escapeProgram(t), "exec-without-argv", sudo, m)))
			return result{match: pidOf(pid), pid: pid, name: "sudo", exe: exe, fields: map[string]string{"proc.exepath": exe}}
		}},
	{"Set-user-ID program started without a name", "Warning", "execveat",
		`the suite's escape helper, as nobody: execveat of an fd of sudo with AT_EMPTY_PATH and argv {""}`,
		func(t *testing.T, ag *agent, m string) result {
			sudo, exe := hostTool(t, "sudo")
			pid := run(t, asNobody(exec.Command(escapeProgram(t), "execveat-empty", sudo, m)))
			return result{match: pidOf(pid), pid: pid, name: "sudo", exe: exe, fields: map[string]string{"proc.exepath": exe}}
		}},
	{"Sudo started with a trailing backslash in shell mode", "Warning", "", `sudoedit -s 'MARKER\', as nobody (CVE-2021-3156)`,
		func(t *testing.T, ag *agent, m string) result {
			sudoedit, exe := hostTool(t, "sudoedit")
			pid := run(t, asNobody(exec.Command(sudoedit, "-s", m+`\`)))
			return result{match: m, pid: pid, name: "sudoedit", exe: exe, fields: map[string]string{"proc.args": "-s " + m + `\`}}
		}},
	{"Sudo started with a trailing backslash in shell mode", "Warning", "sudo -i", `sudo -i 'MARKER\', as nobody`,
		func(t *testing.T, ag *agent, m string) result {
			sudo, exe := hostTool(t, "sudo")
			pid := run(t, asNobody(exec.Command(sudo, "-i", m+`\`)))
			return result{match: m, pid: pid, name: "sudo", exe: exe, fields: map[string]string{"proc.args": "-i " + m + `\`}}
		}},
	{"User namespace created by an unprivileged process", "Warning", "", "unshare -Ur (util-linux), as nobody",
		func(t *testing.T, ag *agent, m string) result {
			unshare, exe := hostTool(t, "unshare")
			pid := run(t, asNobody(exec.Command(unshare, "-Ur", "/bin/true", m)))
			return result{match: m, pid: pid, name: "unshare", exe: exe, user: "nobody", check: flagsContain("CLONE_NEWUSER")}
		}},
	{"User namespace created by an unprivileged process", "Warning", "with a network namespace",
		"python3 exploit stage, as nobody: ctypes unshare(CLONE_NEWUSER|CLONE_NEWNET), as netfilter exploits begin",
		func(t *testing.T, ag *agent, m string) result {
			python, exe := hostTool(t, "python3")
			script := "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n" +
				"if libc.unshare(0x10000000 | 0x40000000) != 0:\n    raise SystemExit(os.strerror(ctypes.get_errno()))\n# " + m
			pid := run(t, asNobody(exec.Command(python, "-c", script)))
			return result{match: m, pid: pid, name: "python3", exe: exe, user: "nobody", check: flagsContain("CLONE_NEWUSER", "CLONE_NEWNET")}
		}},
	{"File opened by handle in a container", "Warning", "",
		"the suite's static escape helper (test/e2e/rules/escape), in a container with DAC_READ_SEARCH: Shocker's open_by_handle_at of a forged handle (inode 2) relative to the host file /etc/hostname, listing the host file system's root",
		func(t *testing.T, ag *agent, m string) result {
			w := runContainer(t, "vge2e-shocker-"+m, []string{"--cap-add", "DAC_READ_SEARCH", "-v", escapeProgram(t) + ":" + escapeTool + ":ro"},
				escapeTool+" open-by-handle /etc/hostname "+m+"; true")
			return result{match: m, name: "escape", exe: escapeTool, in: w}
		}},
}

var escapeBuild struct {
	once sync.Once
	path string
	err  error
}

// escapeProgram builds, once, the suite's escape helper
// (test/e2e/rules/escape) static into the work directory, where
// containers can mount it and nobody can run it, and returns its path.
func escapeProgram(t *testing.T) string {
	t.Helper()
	dir := workDir(t)
	escapeBuild.once.Do(func() {
		out := filepath.Join(dir, "bin", "escape")
		// go test puts its own GOROOT/bin first in the test's PATH.
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w",
			"-o", out, "github.com/vigilsec/vigil/test/e2e/rules/escape")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			escapeBuild.err = fmt.Errorf("go build escape: %v\n%s", err, b)
			return
		}
		escapeBuild.path = out
	})
	if escapeBuild.err != nil {
		t.Fatal(escapeBuild.err)
	}
	return escapeBuild.path
}

// startContainer starts a container of the busybox image named name with
// extra docker run arguments, idling until the test ends, for attacks
// that enter it with docker exec.
func startContainer(t *testing.T, name string, args []string) *workload {
	t.Helper()
	sharedContainer(t) // the image is there and Docker answers
	runArgs := append(append([]string{"run", "-d", "--name", name, "--network", "none"}, args...), image, "sleep", "600")
	out, err := exec.Command(docker, runArgs...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker run: %v: %s", err, out)
	}
	w := &workload{id: strings.TrimSpace(string(out)), name: name}
	testutil.RunOnCleanup(t, docker, "rm", "-f", w.id)
	return w
}

// loopDevice attaches a small file of the work directory to a free loop
// device and returns the device, detached when the test ends.
func loopDevice(t *testing.T, m string) string {
	t.Helper()
	losetup, _ := hostTool(t, "losetup")
	file := filepath.Join(workDir(t), "disk-"+m+".img")
	plant(t, file, strings.Repeat("\x00", 64<<10))
	out, err := exec.Command(losetup, "--find", "--show", file).CombinedOutput()
	if err != nil {
		t.Fatalf("losetup: %v: %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	testutil.RunOnCleanup(t, losetup, "-d", dev)
	return dev
}

// asNobody makes cmd run as the unprivileged user nobody.
func asNobody(cmd *exec.Cmd) *exec.Cmd {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	return cmd
}

// mountsContain checks that the alert lists the mount (source:dest:...).
func mountsContain(mount string) func(*testing.T, *wireAlert) {
	return func(t *testing.T, got *wireAlert) {
		if mounts := got.field("container.mounts"); !strings.Contains(mounts, mount) {
			t.Errorf("mounts %s lack %s", mounts, mount)
		}
	}
}

// capsContain checks that the alert lists the capability as effective.
func capsContain(capability string) func(*testing.T, *wireAlert) {
	return func(t *testing.T, got *wireAlert) {
		if caps := got.field("thread.cap_effective"); !strings.Contains(caps, capability) {
			t.Errorf("caps %s lack %s", caps, capability)
		}
	}
}

// flagsContain checks that the alert's call flags include each of flags.
func flagsContain(flags ...string) func(*testing.T, *wireAlert) {
	return func(t *testing.T, got *wireAlert) {
		for _, f := range flags {
			if got := got.field("evt.arg.flags"); !strings.Contains(got, f) {
				t.Errorf("flags %s lack %s", got, f)
			}
		}
	}
}
