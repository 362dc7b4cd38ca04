package rules_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

// coverageEvasionAttacks prove the defense-evasion rules of the coverage map (docs/coverage.md).
var coverageEvasionAttacks = []attack{
	{"Log file truncated or deleted", "Warning", "", "truncate -s 0 (coreutils) of a log in /var/log",
		func(t *testing.T, ag *agent, m string) result {
			log := hostLog(t, m)
			truncate, exe := hostTool(t, "truncate")
			pid := run(t, exec.Command(truncate, "-s", "0", log))
			if st, err := os.Stat(log); err != nil || st.Size() != 0 {
				t.Errorf("the log was not emptied: %v", err)
			}
			return result{match: m, pid: pid, name: "truncate", exe: exe,
				fields: map[string]string{"evt.type": "ftruncate", "fd.name": log}}
		}},
	{"Log file truncated or deleted", "Warning", "rm", "rm -f (coreutils) of a live log in /var/log",
		func(t *testing.T, ag *agent, m string) result {
			log := hostLog(t, m)
			rm, exe := hostTool(t, "rm")
			pid := run(t, exec.Command(rm, "-f", log))
			return result{match: m, pid: pid, name: "rm", exe: exe,
				fields: map[string]string{"evt.type": "unlinkat", "evt.arg.path": log}}
		}},
	{"Log file truncated or deleted", "Warning", "dd conv=notrunc",
		"busybox dd conv=notrunc zeroing the start of /var/log/wtmp in place, in the container",
		func(t *testing.T, ag *agent, m string) result {
			// The container's own wtmp, created by appending (not a rewrite);
			// the container is the suite's, so no other attack writes it.
			w := inContainer(t, false, "mkdir -p /var/log; echo "+m+" >> /var/log/wtmp; "+
				"/usr/bin/dd if=/dev/zero of=/var/log/wtmp bs=4 count=1 conv=notrunc")
			return result{match: "file=/var/log/wtmp ", name: "dd", exe: busybox, in: w,
				fields: map[string]string{"evt.type": "openat", "fd.name": "/var/log/wtmp"}}
		}},
	{"Program deleted its own executable", "Warning", "", "a copy of python3 (Debian) unlinking the file it runs from",
		func(t *testing.T, ag *agent, m string) result {
			_, python := hostTool(t, "python3")
			bin := testutil.CopyExecutable(t, python, filepath.Join(markerDir(t, m), "updater"))
			pid := run(t, exec.Command(bin, "-c", `import os; os.unlink(os.readlink("/proc/self/exe"))`))
			if _, err := os.Stat(bin); !os.IsNotExist(err) {
				t.Errorf("the program is still on disk: %v", err)
			}
			return result{match: m, pid: pid, name: "updater", exe: bin, fields: map[string]string{"evt.arg.path": bin}}
		}},
	{"Program deleted its own executable", "Warning", "relative path", "a copy of python3 (Debian) unlinking itself by a path relative to its directory",
		func(t *testing.T, ag *agent, m string) result {
			_, python := hostTool(t, "python3")
			dir := markerDir(t, m)
			bin := testutil.CopyExecutable(t, python, filepath.Join(dir, "updater"))
			cmd := exec.Command("./updater", "-c", `import os; os.unlink("updater")`)
			cmd.Dir = dir
			pid := run(t, cmd)
			if _, err := os.Stat(bin); !os.IsNotExist(err) {
				t.Errorf("the program is still on disk: %v", err)
			}
			return result{match: m, pid: pid, name: "updater", exe: bin, fields: map[string]string{"evt.arg.path": bin}}
		}},
	{"File created in /dev", "Warning", "", "busybox sh writing a file into /dev, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "echo 'pool=127.0.0.1:3333' > /dev/"+m+".conf")
			return result{match: m, name: "sh", exe: busybox, in: w, fields: map[string]string{"fd.name": "/dev/" + m + ".conf"}}
		}},
	{"File created in /dev", "Warning", "openat2", "python3 (Debian) creating a file in /dev with openat2(O_CREAT|O_EXCL) through ctypes, " +
		"in a mount namespace of its own (unshare -m) with a tmpfs over /dev",
		func(t *testing.T, ag *agent, m string) result {
			python, exe := hostTool(t, "python3")
			file := "/dev/" + m + ".conf"
			script := filepath.Join(markerDir(t, m), "drop.py")
			plant(t, script, openat2Create)
			// The host's /dev is never written: the tmpfs hides it, for this
			// process only, and goes with the namespace.
			pid := run(t, exec.Command("unshare", "-m", "/bin/sh", "-c", "mount -t tmpfs vge2e /dev && exec "+python+" "+script+" "+file))
			// Only the flags (O_EXCL, which no shell redirection passes) tell
			// this call apart in the alert.
			return result{match: m, pid: pid, name: "python3", exe: exe,
				fields: map[string]string{"fd.name": file, "evt.arg.flags": "O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC"}}
		}},
	{"Program name disguised with a trailing space or a direction mark", "Warning", "",
		`coreutils sleep copied as "sshd " (trailing space) and run`,
		func(t *testing.T, ag *agent, m string) result {
			bin := testutil.CopyExecutable(t, "/bin/sleep", filepath.Join(markerDir(t, m), "sshd "))
			return result{match: m, pid: run(t, exec.Command(bin, "0")), name: "sshd ", exe: bin}
		}},
	{"Program name disguised with a trailing space or a direction mark", "Warning", "right-to-left override",
		"coreutils true copied as inv<U+202E>fdp.sh (shows as invhs.pdf) and run",
		func(t *testing.T, ag *agent, m string) result {
			name := "inv\u202efdp.sh"
			bin := testutil.CopyExecutable(t, "/bin/true", filepath.Join(markerDir(t, m), name))
			return result{match: m, pid: run(t, exec.Command(bin)), name: name, exe: bin}
		}},
	{"Host firewall flushed or disabled", "Warning", "", "iptables -F (Debian, nft backend) in a network namespace of its own (unshare -n)",
		func(t *testing.T, ag *agent, m string) result {
			iptables, exe := hostTool(t, "iptables")
			pid := run(t, exec.Command("unshare", "-n", iptables, "-F"))
			return result{match: pidOf(pid), pid: pid, name: "iptables", exe: exe, fields: map[string]string{"proc.args": "-F"}}
		}},
	{"Host firewall flushed or disabled", "Warning", "nft flush ruleset", "nft flush ruleset (nftables) in a network namespace of its own (unshare -n)",
		func(t *testing.T, ag *agent, m string) result {
			nft, exe := hostTool(t, "nft")
			pid := run(t, exec.Command("unshare", "-n", nft, "flush", "ruleset"))
			return result{match: pidOf(pid), pid: pid, name: "nft", exe: exe, fields: map[string]string{"proc.args": "flush ruleset"}}
		}},
	{"Security or logging service stopped", "Warning", "",
		"service apparmor stop (Debian's init script, which leaves the profiles loaded: the host is untouched)",
		func(t *testing.T, ag *agent, m string) result {
			service, _ := hostTool(t, "service")
			_, err := os.Stat("/etc/init.d/apparmor")
			testutil.Require(t, err == nil, "/etc/init.d/apparmor (apparmor; scripts/test.sh installs it)")
			pid := run(t, exec.Command(service, "apparmor", "stop"))
			return result{match: pidOf(pid), pid: pid, name: "service", exe: realpath(t, "/bin/sh"),
				fields: map[string]string{"proc.args": service + " apparmor stop"}} // a script's argv, as the kernel passes it to sh
		}},
	{"Security or logging service stopped", "Warning", "setenforce 0", "setenforce 0 (selinux-utils; SELinux is off here, so it changes nothing)",
		func(t *testing.T, ag *agent, m string) result {
			setenforce, exe := hostTool(t, "setenforce")
			pid := run(t, exec.Command(setenforce, "0"))
			return result{match: pidOf(pid), pid: pid, name: "setenforce", exe: exe, fields: map[string]string{"proc.args": "0"}}
		}},
	{"Bind mount over a /proc entry", "Warning", "",
		"mount --bind (util-linux) of an empty directory over /proc/PID of a running process, in a mount namespace of its own (unshare -m)",
		func(t *testing.T, ag *agent, m string) result {
			target := victimProcDir(t)
			mount, exe := hostTool(t, "mount")
			pid := run(t, exec.Command("unshare", "-m", mount, "--bind", markerDir(t, m), target))
			return result{match: m, pid: pid, name: "mount", exe: exe, fields: map[string]string{"evt.arg.dir": target}}
		}},
	{"Bind mount over a /proc entry", "Warning", "mount(2) from python",
		"python3 (Debian) calling mount(2) with MS_BIND through ctypes over /proc/PID, in a mount namespace of its own (unshare -m)",
		func(t *testing.T, ag *agent, m string) result {
			target := victimProcDir(t)
			python, exe := hostTool(t, "python3")
			script := `import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
MS_BIND = 4096
if libc.mount(sys.argv[1].encode(), sys.argv[2].encode(), None, MS_BIND, None) != 0:
    sys.exit("mount: " + os.strerror(ctypes.get_errno()))
print(len(os.listdir(sys.argv[2])), "entries left in", sys.argv[2])
`
			pid := run(t, exec.Command("unshare", "-m", python, "-c", script, markerDir(t, m), target))
			return result{match: m, pid: pid, name: "python3", exe: exe, fields: map[string]string{"evt.arg.dir": target}}
		}},
	{"Trusted root certificate added", "Warning", "",
		"cp (coreutils) of a CA certificate into /usr/local/share/ca-certificates, over which a mount namespace of its own (unshare -m) has a tmpfs",
		func(t *testing.T, ag *agent, m string) result {
			ca, err := apiServerCert()
			if err != nil {
				t.Fatal(err)
			}
			crt := filepath.Join(markerDir(t, m), "ca.crt")
			plant(t, crt, string(ca.certPEM))
			const store = "/usr/local/share/ca-certificates"
			cp, exe := hostTool(t, "cp")
			// The host's store is never written: the tmpfs hides it, for cp
			// only, and goes with the namespace.
			pid := run(t, exec.Command("unshare", "-m", "/bin/sh", "-c",
				"mkdir -p "+store+" && mount -t tmpfs vge2e "+store+" && exec "+cp+" "+crt+" "+store+"/"+m+".crt"))
			return result{match: m, pid: pid, name: "cp", exe: exe, fields: map[string]string{"fd.name": store + "/" + m + ".crt"}}
		}},
	{"Trusted root certificate added", "Warning", "in a container", "busybox cp of a CA certificate into /usr/local/share/ca-certificates, in the container",
		func(t *testing.T, ag *agent, m string) result {
			ca, err := apiServerCert()
			if err != nil {
				t.Fatal(err)
			}
			sharedContainer(t)
			plant(t, filepath.Join(shared.drop, m+".crt"), string(ca.certPEM))
			const store = "/usr/local/share/ca-certificates"
			w := inContainer(t, false, "mkdir -p "+store+" && /usr/bin/cp /drop/"+m+".crt "+store+"/")
			return result{match: m, name: "cp", exe: busybox, in: w, fields: map[string]string{"fd.name": store + "/" + m + ".crt"}}
		}},
}

// openat2Create creates the file named by its argument with openat2, as
// a dropper that avoids the libc open wrappers does.
const openat2Create = `import ctypes, os, sys
class OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]
libc = ctypes.CDLL(None, use_errno=True)
how = OpenHow(os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644, 0)
SYS_openat2, AT_FDCWD = 437, -100
fd = libc.syscall(ctypes.c_long(SYS_openat2), ctypes.c_long(AT_FDCWD), sys.argv[1].encode(), ctypes.byref(how), ctypes.c_long(ctypes.sizeof(how)))
if fd < 0:
    sys.exit("openat2: " + os.strerror(ctypes.get_errno()))
os.write(fd, b"pool=127.0.0.1:3333\n")
os.close(fd)
`

// markerDir makes a directory of the suite's work directory named after
// the marker, for the files one attack brings.
func markerDir(t *testing.T, m string) string {
	t.Helper()
	dir := filepath.Join(workDir(t), m)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// hostLog plants a log of the attack's own in /var/log (the host's real
// logs are left alone) and removes what is left of it afterwards.
func hostLog(t *testing.T, m string) string {
	t.Helper()
	log := "/var/log/vge2e-" + m + ".log"
	plant(t, log, "sshd[42]: Accepted publickey for root\n")
	t.Cleanup(func() {
		if err := os.Remove(log); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	return log
}

// victimProcDir starts a process for an attack to hide, stopped at the
// end of the test, and returns its /proc directory.
func victimProcDir(t *testing.T) string {
	t.Helper()
	victim := exec.Command("sleep", "60")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.KillAndWait(victim) })
	return "/proc/" + strconv.Itoa(victim.Process.Pid)
}
