package rules_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

// coverageExecutionAttacks prove the execution, credential-access and persistence rules of the coverage map (docs/coverage.md).
var coverageExecutionAttacks = []attack{
	{"Script or program in a temporary directory run indirectly", "Warning", "", "a script in /dev/shm executed through its #! line (dash)",
		func(t *testing.T, ag *agent, m string) result {
			script := shmScript(t, m)
			// The kernel names the process after the script, and its
			// executable is the interpreter.
			return result{match: m, pid: run(t, exec.Command(script)), name: m + ".sh", exe: realpath(t, "/bin/sh"),
				fields: map[string]string{"evt.arg.filename": script}}
		}},
	{"Script or program in a temporary directory run indirectly", "Warning", "handed to sh", "sh /dev/shm/SCRIPT",
		func(t *testing.T, ag *agent, m string) result {
			script := shmScript(t, m)
			return result{match: m, pid: run(t, exec.Command("/bin/sh", script)), name: "sh", exe: realpath(t, "/bin/sh"),
				fields: map[string]string{"proc.args": script}}
		}},
	{"Script or program in a temporary directory run indirectly", "Warning", "dynamic loader",
		"a copy of coreutils true in /dev/shm run by the dynamic loader (ld-linux-x86-64.so.2 FILE)",
		func(t *testing.T, ag *agent, m string) result {
			bin := filepath.Join("/dev/shm", m)
			testutil.CopyExecutable(t, "/bin/true", bin)
			testutil.RemoveOnCleanup(t, bin)
			const loader = "/lib64/ld-linux-x86-64.so.2"
			return result{match: m, pid: run(t, exec.Command(loader, bin)), name: "ld-linux-x86-64", exe: realpath(t, loader),
				fields: map[string]string{"proc.args": bin}}
		}},
	{"Executable file created in a container", "Warning", "", "busybox cp of a program into /tmp, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "/usr/bin/cp /bin/busybox /tmp/"+m)
			return result{match: m, name: "cp", exe: busybox, in: w, fields: map[string]string{"fd.name": "/tmp/" + m}}
		}},
	{"Execute permission set on a file in a container", "Notice", "", "busybox chmod +x of a dropped file, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "echo true > /tmp/"+m+" && /usr/bin/chmod +x /tmp/"+m)
			return result{match: m, name: "chmod", exe: busybox, in: w, fields: map[string]string{"evt.arg.filename": "/tmp/" + m}}
		}},
	{"Compiler run in a container", "Notice", "", "Debian's gcc -c, in a container that has the host's /usr (chroot)",
		func(t *testing.T, ag *agent, m string) result {
			hostTool(t, "gcc")
			w := compilerContainer(t)
			src := "/tmp/" + m + ".c"
			script := "echo 'int main(void) { return 0; }' > /sysroot" + src +
				" && /bin/busybox chroot /sysroot /usr/bin/gcc -c " + src + " -o /tmp/" + m + ".o && ls /sysroot/tmp/" + m + ".o"
			if out := containerExec(t, w, script); !strings.Contains(out, m+".o") {
				t.Errorf("gcc did not compile: %s", out)
			}
			// The executable's path is the container's: below /sysroot.
			return result{match: m, name: "gcc", exe: "/sysroot" + realpath(t, "/usr/bin/gcc"), in: w}
		}},
	{"Terminal session as a system account", "Warning", "", "script (util-linux) -qc giving nobody a shell on a pseudo-terminal",
		func(t *testing.T, ag *agent, m string) result {
			scriptTool, _ := hostTool(t, "script")
			cmd := exec.Command(scriptTool, "-qc", "echo "+m, "/dev/null")
			cmd.Env = append(os.Environ(), "SHELL=/bin/sh")
			// A session of its own: the shell's terminal is the one script
			// opens, not one the test may have been started from.
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			mustRun(t, cmd)
			return result{match: m, name: "sh", exe: realpath(t, "/bin/sh"), user: "nobody"}
		}},
	{"Terminal session as a system account", "Warning", "python pty.spawn", "python3 -c 'import pty; pty.spawn(...)' as www-data",
		func(t *testing.T, ag *agent, m string) result {
			python, _ := hostTool(t, "python3")
			cmd := exec.Command(python, "-c", `import pty; pty.spawn(["/bin/sh", "-c", "echo `+m+`"])`)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: &syscall.Credential{Uid: 33, Gid: 33}}
			mustRun(t, cmd)
			return result{match: m, name: "sh", exe: realpath(t, "/bin/sh"), user: "www-data"}
		}},
	{"Network tool started by a network service", "Warning", "", "java (OpenJDK) running curl with ProcessBuilder, as remote code execution does",
		func(t *testing.T, ag *agent, m string) result {
			java, _ := hostTool(t, "java")
			curl, exe := hostTool(t, "curl")
			src := writeProgram(t, m, "Exec.java", javaExec)
			srv := loopbackServer(t)
			mustRun(t, exec.Command(java, "-Xmx64m", src, curl, "-sS", srv.url+"/"+m))
			if !srv.asked("/" + m) {
				t.Error("curl did not reach the server")
			}
			return result{match: m, name: "curl", exe: exe, fields: map[string]string{"proc.pname": "java"}}
		}},
	{"Discovery command started by a network service", "Warning", "", "node (Debian) running id with child_process.spawn",
		func(t *testing.T, ag *agent, m string) result {
			node, _ := hostTool(t, "node")
			id, exe := hostTool(t, "id")
			src := writeProgram(t, m, "spawn.js", nodeSpawn)
			pid := childPid(t, exec.Command(node, src, id))
			return result{match: pidOf(pid), pid: pid, name: "id", exe: exe, fields: map[string]string{"proc.pname": "node"}}
		}},
	{"Network tool run by a package install hook", "Warning", "", "npm install of a local package whose postinstall script runs curl",
		func(t *testing.T, ag *agent, m string) result {
			_, exe := hostTool(t, "curl")
			srv := loopbackServer(t)
			npmInstallHook(t, m, "curl -sS "+srv.url+"/"+m)
			if !srv.asked("/" + m) {
				t.Error("the postinstall script did not reach the server")
			}
			return result{match: m, name: "curl", exe: exe, fields: map[string]string{"proc.pname": "sh"}}
		}},
	{"Network tool run by a package install hook", "Warning", "pip setup.py",
		"python3 -m pip install (Debian's pip, offline) of a local source package whose setup.py runs curl",
		func(t *testing.T, ag *agent, m string) result {
			_, exe := hostTool(t, "curl")
			srv := loopbackServer(t)
			pipInstallHook(t, m, srv.url+"/"+m)
			if !srv.asked("/" + m) {
				t.Error("setup.py did not reach the server")
			}
			return result{match: m, name: "curl", exe: exe, fields: map[string]string{"proc.pname": "python3"}}
		}},
	{"Link to a sensitive file created", "Warning", "", "ln -s /etc/shadow into a web root",
		func(t *testing.T, ag *agent, m string) result {
			ln, exe := hostTool(t, "ln")
			link := filepath.Join(webRoot(t, m), "s.txt")
			return result{match: m, pid: run(t, exec.Command(ln, "-s", "/etc/shadow", link)), name: "ln", exe: exe,
				fields: map[string]string{"evt.arg.target": "/etc/shadow", "evt.arg.linkpath": link}}
		}},
	{"Link to a sensitive file created", "Warning", "hard link", "ln /etc/shadow (a hard link, linkat)",
		func(t *testing.T, ag *agent, m string) result {
			ln, exe := hostTool(t, "ln")
			link := filepath.Join(webRoot(t, m), "s.txt")
			return result{match: m, pid: run(t, exec.Command(ln, "/etc/shadow", link)), name: "ln", exe: exe,
				fields: map[string]string{"evt.arg.oldpath": "/etc/shadow", "evt.arg.newpath": link}}
		}},
	{"Link to a sensitive file created", "Warning", "link placed in sudoers.d", "busybox ln -s of a file the attacker owns as /etc/sudoers.d/NAME, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "echo 'ALL ALL=(ALL) NOPASSWD: ALL' > /tmp/"+m+" && mkdir -p /etc/sudoers.d && /usr/bin/ln -s /tmp/"+m+" /etc/sudoers.d/"+m)
			return result{match: m, name: "ln", exe: busybox, in: w,
				fields: map[string]string{"evt.arg.target": "/tmp/" + m, "evt.arg.linkpath": "/etc/sudoers.d/" + m}}
		}},
	{"Sensitive file opened through a path traversal", "Warning", "", "node reading ../../../etc/passwd below its static file root",
		func(t *testing.T, ag *agent, m string) result {
			node, _ := hostTool(t, "node")
			src := writeProgram(t, m, "serve.js", `process.stdout.write(require("fs").readFileSync(process.argv[2], "utf8").slice(0, 40));`)
			public := filepath.Join(workDir(t), m, "public")
			if err := os.MkdirAll(public, 0o755); err != nil {
				t.Fatal(err)
			}
			raw := public + "/" + strings.Repeat("../", 12) + "etc/passwd"
			pid := run(t, exec.Command(node, src, raw))
			return result{match: m, pid: pid, name: "node", exe: realpath(t, node),
				fields: map[string]string{"fd.name": "/etc/passwd", "fd.nameraw": raw}}
		}},
	{"Input or capture device read by an unexpected program", "Warning", "", "cat /dev/vcsa (the console's screen)",
		func(t *testing.T, ag *agent, m string) result {
			cat, exe := hostTool(t, "cat")
			pid := run(t, exec.Command(cat, "/dev/vcsa"))
			return result{match: pidOf(pid), pid: pid, name: "cat", exe: exe, fields: map[string]string{"fd.name": "/dev/vcsa"}}
		}},
	{"Browser credential store read by another program", "Warning", "", "cp of Chrome's Login Data",
		func(t *testing.T, ag *agent, m string) result {
			const store = ".config/google-chrome/Default/Login Data"
			path := filepath.Join(home(t, m, map[string]string{store: "SQLite format 3\x00"}), store)
			cp, exe := hostTool(t, "cp")
			return result{match: m, pid: run(t, exec.Command(cp, path, t.TempDir())), name: "cp", exe: exe,
				fields: map[string]string{"fd.name": path}}
		}},
	{"Crontab installed with the crontab command", "Warning", "", "crontab (Debian's cron) -u nobody FILE, removed afterwards",
		func(t *testing.T, ag *agent, m string) result {
			crontab, exe := hostTool(t, "crontab")
			file := filepath.Join(workDir(t), m+".cron")
			plant(t, file, "* * * * * id\n")
			pid := run(t, exec.Command(crontab, "-u", "nobody", file))
			testutil.RunOnCleanup(t, crontab, "-u", "nobody", "-r")
			if out, err := exec.Command(crontab, "-u", "nobody", "-l").Output(); err != nil || !strings.Contains(string(out), "* * * * * id") {
				t.Errorf("no crontab for nobody after crontab FILE: %v: %s", err, out)
			}
			return result{match: m, pid: pid, name: "crontab", exe: exe, fields: map[string]string{"proc.args": "-u nobody " + file}}
		}},
	{"Crontab installed with the crontab command", "Warning", "busybox crontab", "busybox crontab FILE, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "mkdir -p /var/spool/cron/crontabs && echo '* * * * * id' > /tmp/"+m+".cron && /usr/bin/crontab /tmp/"+m+".cron")
			return result{match: m, name: "crontab", exe: busybox, in: w, fields: map[string]string{"proc.args": "/tmp/" + m + ".cron"}}
		}},
	{"Desktop autostart entry created or modified", "Warning", "", "cp of a .desktop file into ~/.config/autostart",
		func(t *testing.T, ag *agent, m string) result {
			h := home(t, m, map[string]string{"Downloads/update.desktop": "[Desktop Entry]\nType=Application\nExec=/bin/true\n"})
			dir := filepath.Join(h, ".config/autostart")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			cp, exe := hostTool(t, "cp")
			pid := run(t, exec.Command(cp, filepath.Join(h, "Downloads/update.desktop"), dir))
			return result{match: m, pid: pid, name: "cp", exe: exe, fields: map[string]string{"fd.name": filepath.Join(dir, "update.desktop")}}
		}},
	{"Desktop autostart entry created or modified", "Warning", "system-wide", "busybox sh writing /etc/xdg/autostart, in the container",
		func(t *testing.T, ag *agent, m string) result {
			path := "/etc/xdg/autostart/" + m + ".desktop"
			w := inContainer(t, false, "mkdir -p /etc/xdg/autostart && printf '[Desktop Entry]\\nExec=/tmp/"+m+"\\n' > "+path)
			return result{match: m, name: "sh", exe: busybox, in: w, fields: map[string]string{"fd.name": path}}
		}},
}
