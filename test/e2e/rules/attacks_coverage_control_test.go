package rules_test

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

// coverageControlAttacks prove the command-and-control, tampering and impact rules of the coverage map (docs/coverage.md).
var coverageControlAttacks = []attack{
	{"Network connection by a program that never networks", "Warning", "",
		"gawk (Debian) /inet/tcp socket sending to a listener in the suite's network namespace",
		func(t *testing.T, ag *agent, m string) result {
			gawk, exe := hostTool(t, "gawk")
			host, port := remoteHost(t), listenRemote(t, "tcp4", 0)
			prog := fmt.Sprintf(`BEGIN { s = "/inet/tcp/0/%s/%d"; print "%s" |& s; close(s) }`, host, port, m)
			pid := run(t, exec.Command(gawk, prog))
			// gawk first tries an IPv6 socket (connection ::1:N->:::0); the
			// alert to check is the one of the connection it made.
			return result{match: m, narrow: fmt.Sprintf("->%s:%d ", host, port), pid: pid, name: "gawk", exe: exe}
		}},
	{"Network connection by a program that never networks", "Warning", "python named date",
		"python3 (Debian) copied as date, connecting with its socket module to the suite's network namespace",
		func(t *testing.T, ag *agent, m string) result {
			_, python := hostTool(t, "python3")
			date := testutil.CopyExecutable(t, python, filepath.Join(t.TempDir(), "date"))
			host, port := remoteHost(t), listenRemote(t, "tcp4", 0)
			script := fmt.Sprintf("import socket; socket.create_connection((%q, %d), 5).close() # %s", host, port, m)
			pid := run(t, exec.Command(date, "-c", script))
			return result{match: m, pid: pid, name: "date", exe: date, check: connectedTo(fmt.Sprintf("%s:%d", host, port))}
		}},
	{"Tunnelling or remote access tool started", "Warning", "", "tor --version (Debian tor)",
		func(t *testing.T, ag *agent, m string) result {
			tor, exe := hostTool(t, "tor")
			pid := run(t, exec.Command(tor, "--version"))
			return result{match: pidOf(pid), pid: pid, name: "tor", exe: exe, fields: map[string]string{"proc.args": "--version"}}
		}},
	{"Tunnelling or remote access tool started", "Warning", "iodine", "iodine -v (Debian iodine, the DNS tunnel client)",
		func(t *testing.T, ag *agent, m string) result {
			iodine, exe := hostTool(t, "iodine")
			pid := run(t, exec.Command(iodine, "-v"))
			return result{match: pidOf(pid), pid: pid, name: "iodine", exe: exe, fields: map[string]string{"proc.args": "-v"}}
		}},
	{"Network tool run in a container", "Warning", "", "busybox nc -l -e (a bind shell's listener, answering with echo), in the container",
		func(t *testing.T, ag *agent, m string) result {
			port := markerPort(m)
			w, out := containerOutput(t, fmt.Sprintf("/usr/bin/nc -l -p %d -e /bin/echo %s & sleep 0.3; /usr/bin/nc -w 2 127.0.0.1 %d </dev/null; wait",
				port, m, port))
			if !strings.Contains(out, m) {
				t.Errorf("the listener did not answer: %s", out)
			}
			return result{match: m, name: "nc", exe: busybox, in: w,
				fields: map[string]string{"proc.args": fmt.Sprintf("-l -p %d -e /bin/echo %s", port, m)}}
		}},
	{"Network tool run in a container", "Warning", "telnet", "busybox telnet to a listener on the container's loopback",
		func(t *testing.T, ag *agent, m string) result {
			port := markerPort(m)
			w, out := containerOutput(t, fmt.Sprintf("/usr/bin/nc -l -p %d -e /bin/echo %s & sleep 0.3; (sleep 1) | /usr/bin/telnet 127.0.0.1 %d; wait",
				port, m, port))
			if !strings.Contains(out, m) {
				t.Errorf("telnet got no answer: %s", out)
			}
			args := fmt.Sprintf("127.0.0.1 %d", port)
			return result{match: "args=" + args + " ", name: "telnet", exe: busybox, in: w, fields: map[string]string{"proc.args": args}}
		}},
	{"Archive tool run in a container by the runtime", "Notice", "", "docker exec CONTAINER tar cf - (busybox tar), as kubectl cp does",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "echo secret > /tmp/"+m)
			out, err := exec.Command(docker, "exec", w.id, "/usr/bin/tar", "cf", "-", "/tmp/"+m).Output()
			if err != nil || !strings.Contains(string(out), "secret") {
				t.Errorf("tar did not archive the file: %v", err)
			}
			return result{match: m, name: "tar", exe: busybox, in: w, fields: map[string]string{"proc.args": "cf - /tmp/" + m}}
		}},
	{"Archive tool run in a container by the runtime", "Notice", "copy in", "docker exec -i CONTAINER tar xf - (busybox tar), as kubectl cp into a pod does",
		func(t *testing.T, ag *agent, m string) result {
			var archive bytes.Buffer
			tw := tar.NewWriter(&archive)
			body := "dropped " + m + "\n"
			if err := tw.WriteHeader(&tar.Header{Name: "payload.sh", Mode: 0o755, Size: int64(len(body))}); err != nil {
				t.Fatal(err)
			}
			if _, err := tw.Write([]byte(body)); err != nil {
				t.Fatal(err)
			}
			if err := tw.Close(); err != nil {
				t.Fatal(err)
			}
			w := inContainer(t, false, "mkdir -p /tmp/"+m)
			cmd := exec.Command(docker, "exec", "-i", w.id, "/usr/bin/tar", "xf", "-", "-C", "/tmp/"+m)
			cmd.Stdin = &archive
			mustRun(t, cmd)
			if _, out := containerOutput(t, "cat /tmp/"+m+"/payload.sh"); !strings.Contains(out, "dropped "+m) {
				t.Errorf("tar did not extract the file")
			}
			return result{match: m, name: "tar", exe: busybox, in: w, fields: map[string]string{"proc.args": "xf - -C /tmp/" + m}}
		}},
	{"Program in a binary directory replaced or removed", "Error", "", "busybox mv of a dropped file into /usr/local/bin, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w, out := containerOutput(t, fmt.Sprintf("mkdir -p /usr/local/bin; echo x > /tmp/%[1]s; /usr/bin/mv /tmp/%[1]s /usr/local/bin/%[1]s && echo moved", m))
			if !strings.Contains(out, "moved") {
				t.Errorf("mv failed: %s", out)
			}
			// sh's own mkdir -p, when it makes /usr/local/bin, is reported too.
			return result{match: m, narrow: "call=rename ", name: "mv", exe: busybox, in: w,
				fields: map[string]string{"evt.arg.oldpath": "/tmp/" + m, "evt.arg.newpath": "/usr/local/bin/" + m}}
		}},
	{"Program in a binary directory replaced or removed", "Error", "symlink", "busybox ln -s placing a link in /usr/local/bin, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w, out := containerOutput(t, fmt.Sprintf("mkdir -p /usr/local/bin; /usr/bin/ln -s /tmp/%[1]s /usr/local/bin/%[1]s && echo linked", m))
			if !strings.Contains(out, "linked") {
				t.Errorf("ln failed: %s", out)
			}
			return result{match: m, narrow: "call=symlink ", name: "ln", exe: busybox, in: w,
				fields: map[string]string{"evt.arg.linkpath": "/usr/local/bin/" + m, "evt.arg.target": "/tmp/" + m}}
		}},
	{"Write below a library or boot directory", "Error", "", "busybox cp of a PAM module into /usr/lib/security, in the container",
		func(t *testing.T, ag *agent, m string) result {
			so := "/usr/lib/security/pam_" + m + ".so"
			w, out := containerOutput(t, "mkdir -p /usr/lib/security; /usr/bin/cp /bin/busybox "+so+" && echo copied")
			if !strings.Contains(out, "copied") {
				t.Errorf("cp failed: %s", out)
			}
			return result{match: m, name: "cp", exe: busybox, in: w, fields: map[string]string{"fd.name": so}}
		}},
	{"Write below a library or boot directory", "Error", "rename", "busybox mv of a library into /lib, in the container",
		func(t *testing.T, ag *agent, m string) result {
			so := "/lib/lib" + m + ".so"
			w, out := containerOutput(t, fmt.Sprintf("mkdir -p /lib; echo x > /tmp/%s.so; /usr/bin/mv /tmp/%s.so %s && echo moved", m, m, so))
			if !strings.Contains(out, "moved") {
				t.Errorf("mv failed: %s", out)
			}
			return result{match: m, name: "mv", exe: busybox, in: w, fields: map[string]string{"evt.arg.newpath": so}}
		}},
	{"Reboot or power-off requested outside the service manager", "Warning", "",
		"python3 (ctypes) calling reboot(2) to restart as nobody: the kernel refuses (EPERM), nothing restarts",
		func(t *testing.T, ag *agent, m string) result {
			r := rebootAttempt(t, 65534, 0xfee1dead, "EPERM")
			r.user = "nobody"
			return r
		}},
	{"Reboot or power-off requested outside the service manager", "Warning", "bad magic",
		"python3 (ctypes) calling reboot(2) to restart as root with a wrong magic number: the kernel refuses (EINVAL)",
		func(t *testing.T, ag *agent, m string) result { return rebootAttempt(t, 0, 0, "EINVAL") }},
}

// rebootScript asks the kernel to restart the machine with raw reboot(2)
// (magic1 from argv), refusing to try a valid request as root: the
// attack must fail in the kernel, never reboot the machine.
const rebootScript = `import ctypes, os, sys
magic1 = int(sys.argv[1])
if magic1 == 0xfee1dead and os.geteuid() == 0:
    sys.exit("refusing: this would reboot the machine")
libc = ctypes.CDLL(None, use_errno=True)
SYS_reboot, MAGIC2, CMD_RESTART = 169, 672274793, 0x01234567
r = libc.syscall(SYS_reboot, magic1, MAGIC2, CMD_RESTART, 0)
print("reboot:", r, os.strerror(ctypes.get_errno()))
`

// rebootAttempt runs rebootScript as uid and expects the kernel's
// refusal want.
func rebootAttempt(t *testing.T, uid uint32, magic1 uint32, want string) result {
	t.Helper()
	python, exe := hostTool(t, "python3")
	cmd := exec.Command(python, "-c", rebootScript, strconv.FormatUint(uint64(magic1), 10))
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	}
	pid := run(t, cmd)
	return result{match: pidOf(pid), pid: pid, name: "python3", exe: exe,
		fields: map[string]string{"evt.arg.cmd": "LINUX_REBOOT_CMD_RESTART", "evt.res": want}}
}

// markerPort is a port for a listener in the shared container, taken
// from the marker so that parallel attacks do not share one.
func markerPort(m string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(m, "vg"))
	return 20000 + n%40000
}
