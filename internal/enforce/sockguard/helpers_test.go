package sockguard

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/testutil"
)

// The test binary doubles as the helper process whose connects the rules
// judge: a copy named helperComm, run with helperEnv set.
const (
	helperEnv  = "SOCKGUARD_TEST_HELPER"
	helperComm = "sghelper"
	nobody     = 65534
)

var helperPath string

func init() {
	// Keep the helper's main goroutine on the main thread, so the thread
	// that connects has tid == tgid.
	if os.Getenv(helperEnv) != "" {
		runtime.LockOSThread()
	}
}

func TestMain(m *testing.M) {
	if action := os.Getenv(helperEnv); action != "" {
		os.Exit(helperMain(action))
	}
	dir, err := os.MkdirTemp("", "sockguard-test")
	if err == nil {
		// World-readable, so the helper can run as nobody.
		err = os.Chmod(dir, 0o755)
	}
	if err == nil {
		helperPath = filepath.Join(dir, helperComm)
		err = copyFile(os.Args[0], helperPath)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "copy helper:", err)
		os.Exit(2)
	}
	code := m.Run()
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, "remove the helper:", err)
		code = max(code, 1)
	}
	os.Exit(code)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		return errors.Join(err, out.Close())
	}
	return out.Close()
}

// helperMain prints "ready <tid>", waits for a line on stdin, then runs
// action ("tcp4|tcp6|udp4|udp6 <addr> <port>") with raw syscalls, so the
// socket family is exactly the one asked for, and prints "ok" or the errno
// name.
func helperMain(action string) int {
	f := strings.Fields(action)
	if len(f) != 3 {
		fmt.Println("bad action", action)
		return 2
	}
	addr := netip.MustParseAddr(f[1])
	port, _ := strconv.Atoi(f[2])
	fmt.Printf("ready %d\n", unix.Gettid())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // a line or EOF: either is the go-ahead

	domain, typ := unix.AF_INET6, unix.SOCK_STREAM
	var sa unix.Sockaddr = &unix.SockaddrInet6{Port: port, Addr: addr.As16()}
	if strings.HasSuffix(f[0], "4") {
		domain = unix.AF_INET
		sa = &unix.SockaddrInet4{Port: port, Addr: addr.As4()}
	}
	if strings.HasPrefix(f[0], "udp") {
		typ = unix.SOCK_DGRAM
	}
	fd, err := unix.Socket(domain, typ, 0)
	if err == nil {
		if typ == unix.SOCK_DGRAM {
			err = unix.Sendto(fd, []byte("helper"), 0, sa)
		} else {
			err = unix.Connect(fd, sa)
		}
		unix.Close(fd)
	}
	if errno, ok := err.(unix.Errno); ok {
		fmt.Println(unix.ErrnoName(errno))
	} else if err != nil {
		fmt.Println(err)
	} else {
		fmt.Println("ok")
	}
	return 0
}

// helper is a started helper process, waiting for go.
type helper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	PID   int
	TID   int
}

// startHelper starts a helper as nobody, in the cgroup open at cgroupDir
// (nil: the test's own cgroup).
func startHelper(t *testing.T, cgroupDir *os.File, action string) *helper {
	t.Helper()
	cmd := exec.Command(helperPath)
	cmd.Env = append(os.Environ(), helperEnv+"="+action)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	if cgroupDir != nil {
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = int(cgroupDir.Fd())
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper: %v", err)
	}
	h := &helper{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout), PID: cmd.Process.Pid}
	t.Cleanup(func() { testutil.KillAndWait(cmd) })
	line, err := h.out.ReadString('\n')
	if _, serr := fmt.Sscanf(line, "ready %d", &h.TID); err != nil || serr != nil {
		t.Fatalf("helper did not start: %q %v", line, err)
	}
	return h
}

// run lets the helper act and returns its result ("ok", "EPERM", ...).
func (h *helper) run(t *testing.T) string {
	t.Helper()
	if _, err := io.WriteString(h.stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
	line, err := h.out.ReadString('\n')
	if err != nil {
		t.Fatalf("helper result: %v", err)
	}
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	return strings.TrimSpace(line)
}

// attempt runs one helper action and returns its result.
func attempt(t *testing.T, cgroupDir *os.File, action string) string {
	t.Helper()
	return startHelper(t, cgroupDir, action).run(t)
}

var cgroupSeq atomic.Int32

// newCgroup creates a child of the cgroup v2 root for the test and returns
// its directory, open for SysProcAttr.CgroupFD, and its id.
func newCgroup(t *testing.T) (*os.File, uint64) {
	t.Helper()
	root, err := FindCgroupRoot()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, fmt.Sprintf("vigil-sockguard-%d-%d", os.Getpid(), cgroupSeq.Add(1)))
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatalf("create cgroup: %v", err)
	}
	dir, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-in first-out: helpers registered later are
	// reaped before the directory goes.
	t.Cleanup(func() {
		_ = dir.Close() // a directory handle: closing loses nothing
		if err := os.Remove(path); err != nil {
			t.Errorf("remove cgroup: %v", err)
		}
	})
	id, err := CgroupID(path)
	if err != nil {
		t.Fatal(err)
	}
	return dir, id
}

// harness is an open Guard whose decisions are collected.
type harness struct {
	g         *Guard
	decisions chan Decision
}

func openGuard(t testing.TB, cfg Config) *harness {
	t.Helper()
	testutil.RequireBPF(t)
	g, err := Open(cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	h := &harness{g: g, decisions: make(chan Decision, 1024)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- g.Run(ctx, func(d Decision) {
			select {
			case h.decisions <- d:
			default: // the test reads far fewer than it could get
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if err := g.Close(); err != nil {
			t.Error(err)
		}
	})
	return h
}

func (h *harness) apply(t *testing.T, rules ...Rule) {
	t.Helper()
	if err := h.g.Apply(rules); err != nil {
		t.Fatalf("apply: %v", err)
	}
}

// decision waits for the next decision made in cgroup cg.
func (h *harness) decision(t *testing.T, cg uint64) Decision {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case d := <-h.decisions:
			if d.CgroupID == cg {
				return d
			}
		case <-timeout:
			t.Fatalf("no decision for cgroup %d", cg)
		}
	}
}

// noDecision checks that no decision for cgroup cg is waiting. Records are
// submitted before the syscall returns, so one would already be here.
func (h *harness) noDecision(t *testing.T, cg uint64) {
	t.Helper()
	for {
		select {
		case d := <-h.decisions:
			if d.CgroupID == cg {
				t.Errorf("unexpected decision %+v", d)
			}
		default:
			return
		}
	}
}

// listener is a TCP listener on loopback whose accept queue the tests
// inspect.
type listener struct {
	net.Listener
	Port int
}

func listen(t *testing.T, network, addr string) *listener {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return &listener{Listener: l, Port: l.Addr().(*net.TCPAddr).Port}
}

// nextAccepted connects from the test process (protected, so never
// blocked) and returns the remote address of the first connection in the
// accept queue. The queue is FIFO: if it is not the test's own connection,
// a connection that should have been refused got through.
func (l *listener) firstIsMarker(t *testing.T) {
	t.Helper()
	c, err := net.Dial(l.Addr().Network(), l.Addr().String())
	if err != nil {
		t.Fatalf("marker connect: %v", err)
	}
	defer c.Close()
	if err := l.Listener.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err := l.Accept()
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	defer got.Close()
	if got.RemoteAddr().String() != c.LocalAddr().String() {
		t.Errorf("first connection accepted came from %s, not the marker %s: a refused connect got through",
			got.RemoteAddr(), c.LocalAddr())
	}
}

// acceptOne checks that a connection is waiting in the accept queue.
func (l *listener) acceptOne(t *testing.T) {
	t.Helper()
	if err := l.Listener.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	_ = c.Close() // accepted to prove it was queued: that was the check
}
