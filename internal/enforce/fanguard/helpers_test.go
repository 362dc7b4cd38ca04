package fanguard

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/testutil"
)

// helperEnv switches the test binary into a helper child (see TestMain).
const helperEnv = "FANGUARD_HELPER"

// TestMain lets the tests run copies of this binary as child processes that
// do one thing a test needs from a process other than itself.
func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		// The tests exec watched binaries from the process that runs the
		// guard. os/exec's vfork keeps the forking thread's P until the
		// child's exec is answered; a stop-the-world GC in that window
		// waits for that P while the goroutines that would answer wait
		// for the world: a deadlock. See the package doc.
		debug.SetGCPercent(-1)
		os.Exit(m.Run())
	case "readfile":
		helperReadFile(os.Args[1])
	case "threadexec":
		helperThreadExec(os.Args[1:])
	default:
		fmt.Println("unknown helper")
		os.Exit(2)
	}
	os.Exit(0)
}

// helperReadFile reads a file from one locked thread and prints that
// thread's id and the outcome: "tid N ok CONTENT" or "tid N errno E".
func helperReadFile(path string) {
	runtime.LockOSThread()
	tid := unix.Gettid()
	b, err := os.ReadFile(path)
	var errno syscall.Errno
	switch {
	case err == nil:
		fmt.Printf("tid %d ok %s\n", tid, b)
	case errors.As(err, &errno):
		fmt.Printf("tid %d errno %d\n", tid, int(errno))
	default:
		fmt.Printf("tid %d error %v\n", tid, err)
	}
}

// helperThreadExec prints "pid P", waits for one line on stdin (the
// parent's go-ahead, given once it has set up what it tests), then execs
// argv from a thread that does not lead the thread group, printing
// "exec tid T" first. If the exec fails it prints "errno E".
func helperThreadExec(argv []string) {
	fmt.Printf("pid %d\n", os.Getpid())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // a line or EOF: either is the go-ahead
	err := execOnNonLeader(argv)
	var errno syscall.Errno
	if errors.As(err, &errno) {
		fmt.Printf("errno %d\n", int(errno))
		return
	}
	fmt.Printf("error %v\n", err)
}

// execOnNonLeader calls execve from a locked thread other than the leader,
// printing that thread's id first. Threads that turn out to be the leader
// stay locked and idle, so the next try lands elsewhere.
func execOnNonLeader(argv []string) error {
	errc := make(chan error)
	for {
		go func() {
			runtime.LockOSThread()
			if unix.Gettid() == os.Getpid() {
				errc <- errLeader
				select {} // keep the leader out of the next tries
			}
			fmt.Printf("exec tid %d\n", unix.Gettid())
			errc <- syscall.Exec(argv[0], argv, os.Environ())
		}()
		if err := <-errc; err != errLeader {
			return err
		}
	}
}

var errLeader = errors.New("on the leader thread")

func requireRoot(t *testing.T) {
	t.Helper()
	testutil.Require(t, os.Geteuid() == 0, "root (fanotify permission events need CAP_SYS_ADMIN)")
}

// testMount mounts a tmpfs private to the test, so its marks see only the
// test's own execs and opens.
func testMount(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=64m,mode=0755"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// startGuard creates a guard, runs it and closes it when the test ends.
func startGuard(t testing.TB, cfg Config) *Guard { return startGuardWith(t, cfg, nil) }

// startGuardWith lets the caller adjust the guard before it runs.
func startGuardWith(t testing.TB, cfg Config, adjust func(*Guard)) *Guard {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if adjust != nil {
		adjust(g)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v", err)
		}
		if err := g.Close(); err != nil {
			t.Error(err)
		}
	})
	return g
}

// recorder is a Decider that keeps what it was asked.
type recorder struct {
	mu     sync.Mutex
	reqs   []Request
	decide func(*Request) Verdict
}

func (r *recorder) Decide(req *Request) Verdict {
	r.mu.Lock()
	r.reqs = append(r.reqs, *req)
	r.mu.Unlock()
	return r.decide(req)
}

func (r *recorder) requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.reqs...)
}

func (r *recorder) calls() int { return len(r.requests()) }

// waitFor polls cond until it holds; tests never depend on how long it
// takes, only on it happening at all.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// statOf returns the device and inode of path.
func statOf(t testing.TB, path string) (dev, ino uint64) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Dev, st.Ino
}

// copyTestBinary copies this test binary under a new name, so that the child
// it runs has that name as its comm.
func copyTestBinary(t testing.TB, name string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return testutil.CopyExecutable(t, self, name)
}

// runHelper runs a helper child and returns its pid and output.
func runHelper(t testing.TB, bin, mode string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v (output %q)", bin, mode, err, out)
	}
	return cmd.Process.Pid, strings.TrimSpace(string(out))
}

// openFdsUnder lists the fds of this process that name files under dir.
func openFdsUnder(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var open []string
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err == nil && strings.HasPrefix(target, dir+"/") {
			open = append(open, e.Name()+" -> "+target)
		}
	}
	return open
}

func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return n
}

// fdinfo returns /proc/self/fdinfo/<fd>.
func fdinfo(t testing.TB, fd int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func containsLine(text, prefix string) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// isFanotify says whether fd is open on a fanotify group.
func isFanotify(t testing.TB, fd int) bool {
	t.Helper()
	target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	return err == nil && target == "anon_inode:[fanotify]"
}

// shExec runs argv through /bin/sh's exec, so the exec of a watched file
// happens in a process other than the one running the guard: this process's
// vfork returns as soon as sh (on an unwatched mount) has started.
func shExec(argv ...string) *exec.Cmd {
	return exec.Command("/bin/sh", append([]string{"-c", `exec "$0" "$@"`}, argv...)...)
}
