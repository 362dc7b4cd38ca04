package rules_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/testutil"
)

const (
	image  = "vigil-test/busybox:1"
	docker = "/usr/bin/docker"
)

var work struct {
	once sync.Once
	dir  string
	err  error
}

// workDir is a world-readable directory outside the temporary directories
// (so that running programs from it is not itself suspicious), shared by
// the suite and removed at its end.
func workDir(t *testing.T) string {
	t.Helper()
	work.once.Do(func() {
		if work.err = os.MkdirAll("/opt", 0o755); work.err != nil {
			return
		}
		work.dir, work.err = os.MkdirTemp("/opt", "vge2e-")
		if work.err == nil {
			work.err = os.Chmod(work.dir, 0o755)
			atExit(func() error { return os.RemoveAll(work.dir) })
		}
	})
	if work.err != nil {
		t.Fatal(work.err)
	}
	return work.dir
}

var nobodyHelper struct {
	once sync.Once
	path string
}

// helper returns a command that runs the test binary as a helper
// performing action, as uid (65534 runs a world-executable copy).
func helper(t *testing.T, uid uint32, action, arg string) *exec.Cmd {
	t.Helper()
	bin := os.Args[0]
	if uid != 0 {
		nobodyHelper.once.Do(func() {
			nobodyHelper.path = testutil.CopyExecutable(t, os.Args[0], filepath.Join(workDir(t), "e2e-helper"))
		})
		bin = nobodyHelper.path
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), helperEnv+"="+action, helperArgEnv+"="+arg)
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	}
	return cmd
}

var shared struct {
	once  sync.Once
	id    string
	name  string
	token string
	err   error
}

// sharedContainer starts, after the agent, the one container the
// container tests run in: no network (addresses are added to its own
// loopback), CAP_SYS_ADMIN and CAP_NET_ADMIN so that escapes can be tried,
// kubelet labels, and a service-account token mounted where Kubernetes
// puts it.
func sharedContainer(t *testing.T) (id, name string) {
	t.Helper()
	testutil.RequireDocker(t)
	startAgent(t)
	shared.once.Do(func() {
		tokenDir := filepath.Join(workDir(t), "serviceaccount")
		if shared.err = os.MkdirAll(tokenDir, 0o755); shared.err != nil {
			return
		}
		if err := os.WriteFile(filepath.Join(tokenDir, "token"), []byte("eyJhbGciOiJSUzI1NiJ9.e2e.sig"), 0o644); err != nil {
			t.Fatal(err)
		}
		shared.name = "vge2e-" + newMarker()
		out, err := exec.Command(docker, "run", "-d", "--name", shared.name, "--network", "none",
			"--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN", "--security-opt", "apparmor=unconfined",
			"-v", tokenDir+":/var/run/secrets/kubernetes.io/serviceaccount:ro",
			"--label", "io.kubernetes.pod.name=shop-web-0", "--label", "io.kubernetes.pod.namespace=shop",
			"--label", "io.kubernetes.container.name=web",
			image, "sleep", "3600").CombinedOutput()
		if err != nil {
			shared.err = fmt.Errorf("docker run: %v: %s", err, out)
			return
		}
		shared.id = strings.TrimSpace(string(out))
		atExit(func() error { return exec.Command(docker, "rm", "-f", shared.id).Run() })
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.id, shared.name
}

// inContainer runs a shell script in the shared container.
func inContainer(t *testing.T, tty bool, script string) {
	t.Helper()
	id, _ := sharedContainer(t)
	args := []string{"exec"}
	if tty {
		args = append(args, "-t")
	}
	args = append(args, id, "sh", "-c", script)
	mustRun(t, exec.Command(docker, args...))
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
		atExit(func() error {
			return errors.Join(exec.Command("ip", "link", "del", host).Run(),
				exec.Command("ip", "netns", "del", name).Run())
		})
	})
	if netns.err != nil {
		t.Fatal(netns.err)
	}
	return netns.remote
}

// listenRemote listens on the remote host's address (port 0 picks one)
// and returns the port; connections are accepted and closed.
func listenRemote(t *testing.T, network string, port int) int {
	t.Helper()
	addr := fmt.Sprintf("%s:%d", remoteHost(t), port)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	ns, err := os.Open(netns.path)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
			panic(err) // this thread must not go back to the pool in the wrong namespace
		}
	}()
	if network == "udp4" {
		c, err := net.ListenPacket(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	ln, err := net.Listen(network, addr)
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
			_ = c.Close() // accepted only for the connect to succeed
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}
