package execguard

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/testutil"
)

// helperEnv makes the test binary act as a helper process instead of
// running tests (see TestMain).
const helperEnv = "VIGIL_EXECGUARD_HELPER"

// A helper keeps its main goroutine on the main thread (init runs there),
// so the execveat helper can exec from a thread that is not the leader.
func init() {
	if os.Getenv(helperEnv) != "" {
		runtime.LockOSThread()
	}
}

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "execveat":
		helperExecveat()
	case "exec-on-input":
		helperExecOnInput()
	}
	fmt.Fprintln(os.Stderr, "unknown helper", os.Getenv(helperEnv))
	os.Exit(2)
}

// helperExecveat opens HELPER_PATH, prints "tid fd", waits for a line on
// stdin, then runs execveat(fd, "", HELPER_ARGV, AT_EMPTY_PATH) from a
// thread other than the leader, the case where the exec'ing thread's id
// changes under it.
func helperExecveat() {
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open(os.Getenv("HELPER_PATH"), unix.O_RDONLY, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		fmt.Printf("%d %d\n", unix.Gettid(), fd)
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // a line or EOF: either is the go-ahead
		err = execveat(fd, "", helperArgv(), nil, unix.AT_EMPTY_PATH)
		fmt.Fprintln(os.Stderr, "execveat:", err)
		os.Exit(4)
	}()
	select {}
}

// helperExecOnInput waits for a line on stdin, then execs HELPER_PATH (or
// HELPER_ARGV[0]) with HELPER_ARGV, from the leader thread (see init).
func helperExecOnInput() {
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // a line or EOF: either is the go-ahead
	argv := helperArgv()
	path := os.Getenv("HELPER_PATH")
	if path == "" {
		path = argv[0]
	}
	err := syscall.Exec(path, argv, nil)
	fmt.Fprintln(os.Stderr, "exec:", err)
	os.Exit(4)
}

func helperArgv() []string {
	var argv []string
	if err := json.Unmarshal([]byte(os.Getenv("HELPER_ARGV")), &argv); err != nil {
		fmt.Fprintln(os.Stderr, "HELPER_ARGV:", err)
		os.Exit(3)
	}
	return argv
}

func execveat(dirfd int, path string, argv, envv []string, flags int) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	av, err := cStrings(argv)
	if err != nil {
		return err
	}
	ev, err := cStrings(envv)
	if err != nil {
		return err
	}
	_, _, errno := unix.Syscall6(unix.SYS_EXECVEAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)),
		uintptr(unsafe.Pointer(&av[0])), uintptr(unsafe.Pointer(&ev[0])), uintptr(flags), 0)
	return errno
}

// cStrings is a NULL-terminated array of C strings.
func cStrings(ss []string) ([]*byte, error) {
	out := make([]*byte, len(ss)+1)
	for i, s := range ss {
		p, err := unix.BytePtrFromString(s)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// helperCmd runs the test binary as helper mode with argv for its exec.
func helperCmd(mode string, argv []string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	js, _ := json.Marshal(argv)
	cmd.Env = append([]string{helperEnv + "=" + mode, "HELPER_ARGV=" + string(js)}, env...)
	cmd.Stderr = os.Stderr
	return cmd
}

func openGuard(t *testing.T, cfg Config) *Guard {
	t.Helper()
	testutil.RequireBPF(t)
	g, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return g
}

// records runs g.Run for the test's lifetime and returns its records.
func records(t *testing.T, g *Guard) <-chan KillRecord {
	t.Helper()
	ch := make(chan KillRecord, 256)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- g.Run(ctx, func(r KillRecord) {
			select {
			case ch <- r:
			default:
				t.Errorf("record channel full, dropped %+v", r)
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return ch
}

// recordFor waits for the record of thread group tgid.
func recordFor(t *testing.T, ch <-chan KillRecord, tgid int) KillRecord {
	t.Helper()
	return recordWhere(t, ch, func(r KillRecord) bool { return int(r.TGID) == tgid })
}

// recordWhere waits for the first record that matches.
func recordWhere(t *testing.T, ch <-chan KillRecord, match func(KillRecord) bool) KillRecord {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case r := <-ch:
			if match(r) {
				return r
			}
		case <-timeout:
			t.Fatal("no matching kill record within 10 s")
		}
	}
}

// noRecordFor checks that nothing was reported for tgid. Its exec has
// completed, and the kernel counts every match before the exec returns, so
// once the reader has caught up with the kernel's count every record
// already sits in ch.
func noRecordFor(t *testing.T, g *Guard, ch <-chan KillRecord, tgid int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		st := g.Stats()
		if st.RingDrops != 0 {
			t.Fatalf("kill records dropped: %+v", st)
		}
		caughtUp := st.Received == st.Killed+st.Audited+st.SignalFailures
		for drained := false; !drained; {
			select {
			case r := <-ch:
				if int(r.TGID) == tgid {
					t.Fatalf("unexpected kill record %+v", r)
				}
			default:
				drained = true
			}
		}
		if caughtUp {
			return
		}
		select {
		case <-timeout:
			t.Fatalf("reader never caught up with the kernel: %+v", st)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// killedBySIGKILL reports whether err is the exit of a process killed by
// SIGKILL.
func killedBySIGKILL(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// ownCgroupID is the cgroup v2 id of this process.
func ownCgroupID(t *testing.T) uint64 {
	t.Helper()
	return cgroupIDOfPID(t, os.Getpid())
}

const cgroupV2Root = "/sys/fs/cgroup/unified"

func cgroupIDOfPID(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "0::"); ok {
			return cgroupIDOfDir(t, filepath.Join(cgroupV2Root, rest))
		}
	}
	t.Fatalf("no cgroup v2 line in /proc/%d/cgroup", pid)
	return 0
}

// cgroupIDOfDir is the id the kernel reports for a cgroup v2 directory:
// its inode number on 64-bit kernels.
func cgroupIDOfDir(t *testing.T, dir string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// childCgroup creates a cgroup v2 child of the root and returns its id and
// an open fd for SysProcAttr.CgroupFD.
func childCgroup(t *testing.T) (uint64, int) {
	t.Helper()
	dir := filepath.Join(cgroupV2Root, "vigil-execguard-"+strconv.Itoa(os.Getpid())+"-"+strconv.Itoa(int(time.Now().UnixNano()%1e9)))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unix.Close(fd)
		if err := unix.Rmdir(dir); err != nil {
			t.Errorf("remove cgroup %s: %v", dir, err)
		}
	})
	return cgroupIDOfDir(t, dir), fd
}
