package rules_test

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

var tamperingAttacks = []attack{
	{"Write below /etc", "Error", "", "busybox sh appending to a file in /etc, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "echo x >> /etc/"+m)
			return result{match: m, name: "sh", exe: busybox, in: w, fields: map[string]string{"fd.name": "/etc/" + m}}
		}},
	{"Write below a binary directory", "Error", "", "busybox sh writing into /usr/local/bin, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "mkdir -p /usr/local/bin; echo x >> /usr/local/bin/"+m)
			return result{match: m, name: "sh", exe: busybox, in: w, fields: map[string]string{"fd.name": "/usr/local/bin/" + m}}
		}},
	{"Write below /root", "Warning", "", "busybox sh writing into /root, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "echo x >> /root/"+m+".txt")
			return result{match: m, name: "sh", exe: busybox, in: w, fields: map[string]string{"fd.name": "/root/" + m + ".txt"}}
		}},
	{"Package database modified outside the package manager", "Error", "", "busybox sh writing into /var/lib/dpkg/info, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "mkdir -p /var/lib/dpkg/info; echo x >> /var/lib/dpkg/info/"+m+".list")
			return result{match: m, name: "sh", exe: busybox, in: w, fields: map[string]string{"fd.name": "/var/lib/dpkg/info/" + m + ".list"}}
		}},
	{"Package manager run in a container", "Warning", "",
		"busybox dpkg -i installing a package built with dpkg-deb, in the container (the image has no apk or apt)",
		func(t *testing.T, ag *agent, m string) result {
			name := "vge2e-" + m
			deb := buildDeb(t, name)
			w, out := containerOutput(t, "mkdir -p /var/lib/dpkg/info && touch /var/lib/dpkg/status && /usr/bin/dpkg -i "+deb+
				" && cat /usr/share/doc/"+name+"/README")
			if !strings.Contains(out, "installed by the attack suite") {
				t.Errorf("the package was not installed: %s", out)
			}
			return result{match: m, name: "dpkg", exe: busybox, in: w}
		}},
	{"Data wiping tool run", "Warning", "", "shred -u (coreutils)",
		func(t *testing.T, ag *agent, m string) result {
			h := home(t, m, map[string]string{"ledger.db": "important\n"})
			shred, exe := hostTool(t, "shred")
			return result{match: m, pid: run(t, exec.Command(shred, "-u", h+"/ledger.db")), name: "shred", exe: exe}
		}},
}

var integrityAttacks = []attack{
	{"Vigil agent signalled to stop", "Critical", "", "kill -TERM (procps) sent to a second, real vigil run agent",
		func(t *testing.T, ag *agent, m string) result {
			target := startVigilTarget(t)
			kill, exe := hostTool(t, "kill")
			pid := run(t, exec.Command(kill, "-TERM", strconv.Itoa(target.Process.Pid)))
			exited := make(chan error, 1)
			go func() { exited <- target.Wait() }()
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("the target agent did not stop cleanly: %v", err)
				}
			case <-time.After(stopTimeout):
				t.Error("the target agent did not stop")
			}
			tpid := target.Process.Pid
			return result{match: fmt.Sprintf("target_pid=%d ", tpid), pid: pid, name: "kill", exe: exe, fields: map[string]string{
				"evt.arg.sig": "SIGTERM", "evt.target.pid": strconv.Itoa(tpid), "evt.target.exepath": built.vigil}}
		}},
	{"BPF programs or maps of other processes accessed", "Warning", "",
		"tamperer (the suite's helper, cilium/ebpf): BPF_PROG_GET_FD_BY_ID on a loaded program, as bpftool does",
		func(t *testing.T, ag *agent, m string) result {
			cmd, bin := helper(t, 0, "bpf_get_fd", "")
			pid := run(t, cmd)
			return result{match: pidOf(pid), pid: pid, name: bin[strings.LastIndex(bin, "/")+1:], exe: realpath(t, bin),
				fields: map[string]string{"evt.arg.cmd": "BPF_PROG_GET_FD_BY_ID"}}
		}},
}
