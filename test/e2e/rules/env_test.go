package rules_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/testutil"
)

const (
	image  = "vigil-test/busybox:1"
	docker = "/usr/bin/docker" // Debian's CLI, matching its daemon (another may come first in PATH)
)

// newMarker returns a token no other process on the machine uses.
func newMarker() string { return fmt.Sprintf("vg%08d", rand.IntN(100000000)) }

var nobodyHelper struct {
	once sync.Once
	path string
}

// helper returns a command that runs the test binary as a helper
// performing action, as uid (65534 runs a world-executable copy), and
// the path of the program it runs.
func helper(t *testing.T, uid uint32, action, arg string) (*exec.Cmd, string) {
	t.Helper()
	bin := os.Args[0]
	if uid != 0 {
		nobodyHelper.once.Do(func() {
			nobodyHelper.path = testutil.CopyExecutable(t, os.Args[0], filepath.Join(workDir(t), "bin", "e2e-helper"))
		})
		bin = nobodyHelper.path
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), helperEnv+"="+action, helperArgEnv+"="+arg)
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	}
	return cmd, bin
}

// plant creates a file the attack then acts on. It is created without
// O_TRUNC (and must not exist): the agent sees the test's own process
// too, and setting the scene must not look like the attack.
func plant(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// home makes a user home under the work directory holding files (see
// plant).
func home(t *testing.T, m string, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(workDir(t), "home", m)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range files {
		plant(t, filepath.Join(dir, name), text)
	}
	return dir
}

// workload is the container an alert must name.
type workload struct {
	id, name string // full id, name
	pod, ns  string // kubelet labels, when it has them
}

var shared struct {
	once  sync.Once
	w     *workload
	pid   int    // its init process, for its network namespace
	token string // the service-account token mounted into it
	drop  string // host directory mounted read-only at /drop
	err   error
}

// k8sToken is the service-account token the shared container holds.
const k8sToken = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImUyZSJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6c2hvcDp3ZWIifQ.c2ln"

// sharedContainer starts, once, the container most container attacks
// run in: no network but its own loopback, to which the addresses of a
// cloud metadata service and of a Kubernetes API server are added and
// served (see containerServers); CAP_SYS_ADMIN and CAP_NET_ADMIN so
// that escapes can be tried; kubelet labels and a service-account
// directory (token, CA, namespace) where Kubernetes mounts it; /drop,
// the files an attacker brings, read-only; and busybox's applets
// installed in /usr/bin, as in busybox-based images. Scripts run the
// acting applet by that path: the image's busybox is Debian's static
// build, whose shell runs an applet named without a path inside itself or
// through /proc/self/exe (so the process is named "exe"), where the shell
// of a busybox image (Alpine's) executes the applet's link.
func sharedContainer(t *testing.T) *workload {
	t.Helper()
	testutil.RequireDocker(t)
	shared.once.Do(func() { shared.err = startShared(t) })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.w
}

func startShared(t *testing.T) error {
	dir := workDir(t)
	tokenDir, drop := filepath.Join(dir, "serviceaccount"), filepath.Join(dir, "drop")
	for _, d := range []string{tokenDir, drop} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	ca, err := apiServerCert()
	if err != nil {
		return err
	}
	for name, text := range map[string]string{"token": k8sToken, "ca.crt": string(ca.certPEM), "namespace": "shop"} {
		if err := os.WriteFile(filepath.Join(tokenDir, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	testutil.CopyExecutable(t, built.kubectl, filepath.Join(drop, "kubectl"))
	w := &workload{name: "vge2e-" + newMarker(), pod: "shop-web-0", ns: "shop"}
	out, err := exec.Command(docker, "run", "-d", "--name", w.name, "--network", "none",
		"--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN", "--security-opt", "apparmor=unconfined",
		"-v", tokenDir+":/var/run/secrets/kubernetes.io/serviceaccount:ro", "-v", drop+":/drop:ro",
		"--label", "io.kubernetes.pod.name="+w.pod, "--label", "io.kubernetes.pod.namespace="+w.ns,
		"--label", "io.kubernetes.container.name=web",
		image, "sleep", "3600").CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker run: %v: %s", err, out)
	}
	w.id = strings.TrimSpace(string(out))
	runAtExit(docker, "rm", "-f", w.id)
	setup := "mkdir -p /usr/bin && /bin/busybox --install -s /usr/bin && " +
		"ip addr add 169.254.169.254/32 dev lo && ip addr add 10.96.0.1/32 dev lo"
	if out, err := exec.Command(docker, "exec", w.id, "/bin/sh", "-c", setup).CombinedOutput(); err != nil {
		return fmt.Errorf("setting up the container: %v: %s", err, out)
	}
	out, err = exec.Command(docker, "inspect", "-f", "{{.State.Pid}}", w.id).Output()
	if err != nil {
		return fmt.Errorf("docker inspect: %v", err)
	}
	if _, err := fmt.Sscan(string(out), &shared.pid); err != nil {
		return fmt.Errorf("docker inspect: pid %q: %v", out, err)
	}
	shared.w, shared.token, shared.drop = w, k8sToken, drop
	return startContainerServers(fmt.Sprintf("/proc/%d/ns/net", shared.pid), ca)
}

// inContainer runs a shell script in the shared container.
func inContainer(t *testing.T, tty bool, script string) *workload {
	t.Helper()
	w := sharedContainer(t)
	args := []string{"exec"}
	if tty {
		args = append(args, "-t")
	}
	args = append(args, w.id, "sh", "-c", script)
	mustRun(t, exec.Command(docker, args...))
	return w
}

// mustRun runs a command and fails the test if it cannot start; its exit
// status is the behaviour's business (many attacks fail here on purpose).
func mustRun(t *testing.T, cmd *exec.Cmd) *exec.Cmd {
	t.Helper()
	out, err := cmd.CombinedOutput()
	// A program the attack has just copied can be busy for a moment: a
	// child that a parallel attack forks at that instant holds the copy's
	// write descriptor until it execs (golang.org/issue/22315). The exec
	// is then tried again, as a new command.
	for i := 0; errors.Is(err, syscall.ETXTBSY) && i < 50; i++ {
		time.Sleep(20 * time.Millisecond)
		retry := exec.Command(cmd.Path, cmd.Args[1:]...)
		retry.Args[0] = cmd.Args[0]
		retry.Env, retry.Dir, retry.Stdin, retry.SysProcAttr = cmd.Env, cmd.Dir, cmd.Stdin, cmd.SysProcAttr
		cmd = retry
		out, err = cmd.CombinedOutput()
	}
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	text := strings.TrimSpace(string(out))
	if len(text) > 300 {
		text = text[:300] + "..."
	}
	t.Logf("%v: %s", cmd.Args, text)
	return cmd
}

// run runs cmd (see mustRun) and returns its pid.
func run(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	return mustRun(t, cmd).Process.Pid
}

var netns struct {
	once   sync.Once
	path   string
	remote string
	err    error
}

// remoteHost creates, once, a network namespace joined to the host by a
// veth pair and returns the address of its end: the "other host" of the
// network tests, which never leave the machine.
func remoteHost(t *testing.T) string {
	t.Helper()
	netns.once.Do(func() {
		name := "vge2e" + fmt.Sprint(os.Getpid()%100000)
		n := os.Getpid()%200 + 20
		host, peer := name+"h", name+"n"
		netns.remote = fmt.Sprintf("10.213.%d.2", n)
		for _, args := range [][]string{
			{"netns", "add", name},
			{"link", "add", host, "type", "veth", "peer", "name", peer},
			{"link", "set", peer, "netns", name},
			{"addr", "add", fmt.Sprintf("10.213.%d.1/24", n), "dev", host},
			{"link", "set", host, "up"},
			{"-n", name, "addr", "add", netns.remote + "/24", "dev", peer},
			{"-n", name, "link", "set", peer, "up"},
			{"-n", name, "link", "set", "lo", "up"},
		} {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				netns.err = fmt.Errorf("ip %v: %v: %s", args, err, out)
				return
			}
		}
		netns.path = "/run/netns/" + name
		// At exit in the reverse order: the link goes first.
		runAtExit("ip", "netns", "del", name)
		runAtExit("ip", "link", "del", host)
	})
	if netns.err != nil {
		t.Fatal(netns.err)
	}
	return netns.remote
}

// inNetns runs f on a thread that has joined the network namespace at
// path: sockets f creates live there.
func inNetns(path string, f func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return err
	}
	defer self.Close()
	ns, err := os.Open(path)
	if err != nil {
		return err
	}
	defer ns.Close()
	if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
		return err
	}
	defer func() {
		if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
			panic(err) // this thread must not go back to the pool in the wrong namespace
		}
	}()
	return f()
}

// listenRemote listens on the remote host's address (port 0 picks one)
// and returns the port; TCP connections are accepted and closed.
func listenRemote(t *testing.T, network string, port int) int {
	t.Helper()
	if network == "udp4" {
		var c net.PacketConn
		err := inNetns(netnsPath(t), func() (err error) {
			c, err = net.ListenPacket(network, fmt.Sprintf("%s:%d", remoteHost(t), port))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	return serveRemote(t, port, func(c net.Conn) {})
}

// serveRemote listens for TCP on the remote host's address (port 0 picks
// one), calls handle for each connection and closes it afterwards, and
// returns the port.
func serveRemote(t *testing.T, port int, handle func(net.Conn)) int {
	t.Helper()
	var ln net.Listener
	err := inNetns(netnsPath(t), func() (err error) {
		ln, err = net.Listen("tcp4", fmt.Sprintf("%s:%d", remoteHost(t), port))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func netnsPath(t *testing.T) string {
	t.Helper()
	remoteHost(t)
	return netns.path
}
