package rules_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// experimentalAttacks prove the experimental rules (TestExperimentalAttacks).
var experimentalAttacks = []attack{
	{"Unexpected outbound UDP", "Notice", "", "bash /dev/udp redirection",
		func(t *testing.T, ag *agent, m string) result {
			_, exe := hostTool(t, "bash")
			port := listenRemote(t, "udp4", 0)
			pid := run(t, exec.Command("bash", "-c", fmt.Sprintf("echo %s > /dev/udp/%s/%d", m, remoteHost(t), port)))
			return result{match: m, pid: pid, name: "bash", exe: exe, fields: map[string]string{"fd.sport": strconv.Itoa(port)}}
		}},
	{"Hidden directory created in a system directory", "Warning", "", "busybox mkdir /usr/lib/.NAME, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "/usr/bin/mkdir -p /usr/lib/."+m)
			return result{match: m, name: "mkdir", exe: busybox, in: w, fields: map[string]string{"evt.arg.path": "/usr/lib/." + m}}
		}},
	{"Connection to a mining pool port", "Notice", "",
		"stand-in xmrig (test/e2e/rules/standin/xmrig; no miner is packaged): stratum login to a pool on port 3333 in the suite's network namespace",
		func(t *testing.T, ag *agent, m string) result {
			r := mine(t, m)
			r.fields = map[string]string{"fd.sport": "3333"}
			return r
		}},
	{"Python startup hook planted", "Warning", "", "python3 (Debian) writing a .pth file into a virtualenv's site-packages",
		func(t *testing.T, ag *agent, m string) result {
			python, exe := hostTool(t, "python3")
			pth := filepath.Join(workDir(t), "venv-"+m, "lib", "python3", "site-packages", m+".pth")
			if err := os.MkdirAll(filepath.Dir(pth), 0o755); err != nil {
				t.Fatal(err)
			}
			pid := run(t, exec.Command(python, "-c", fmt.Sprintf("open(%q, 'w').write('import os\\n')", pth)))
			return result{match: m, pid: pid, name: "python3", exe: exe, fields: map[string]string{"fd.name": pth}}
		}},
	{"Python startup hook planted", "Warning", "usercustomize", "bash redirection writing usercustomize.py into a site-packages directory",
		func(t *testing.T, ag *agent, m string) result {
			bash, exe := hostTool(t, "bash")
			hook := filepath.Join(workDir(t), "venv-"+m, "lib", "python3", "site-packages", "usercustomize.py")
			if err := os.MkdirAll(filepath.Dir(hook), 0o755); err != nil {
				t.Fatal(err)
			}
			pid := run(t, exec.Command(bash, "-c", "echo 'import os' > "+hook))
			return result{match: m, pid: pid, name: "bash", exe: exe, fields: map[string]string{"fd.name": hook}}
		}},
	{"Host file system accessed from a container", "Warning", "", "busybox cat of a host file through the host's root mounted at /host (docker run -v /:/host)",
		func(t *testing.T, ag *agent, m string) result { return hostRootRead(t, m, "/host") }},
	{"Host file system accessed from a container", "Warning", "rootfs", "busybox cat of a host file through the host's root mounted at /rootfs",
		func(t *testing.T, ag *agent, m string) result { return hostRootRead(t, m, "/rootfs") }},
}

// hostRootRead starts a container with the host's root mounted read-only
// at mount, whose entrypoint reads a host file planted for it there.
func hostRootRead(t *testing.T, m, mount string) result {
	t.Helper()
	file := filepath.Join(workDir(t), m+".txt")
	plant(t, file, m+"\n")
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	w := runContainer(t, "vge2e-"+m, []string{"-v", "/:" + mount + ":ro"}, "/bin/busybox cat "+mount+file)
	return result{match: m, name: "busybox", exe: busybox, in: w, fields: map[string]string{"fd.name": mount + file}}
}
