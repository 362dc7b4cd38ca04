package sensor

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/testutil"
)

func TestExecArgvExeCwd(t *testing.T) {
	sensorFor(t)
	bin := testutil.CopyExecutable(t, "/bin/true", "vigil-argv-test")
	args := make([]string, 300)
	for i := range args {
		args[i] = fmt.Sprintf("arg-%03d=%s", i, strings.Repeat("x", i%17))
	}
	cwd := t.TempDir()
	cmd := exec.Command(bin, args...)
	cmd.Dir = cwd
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := uint32(cmd.Process.Pid)
	ev := waitFor(t, 1, func(e *event.Event) bool { return e.Kind == event.KindExec && e.PID == pid })[0]

	if ev.Ret != 0 || ev.Exec.Filename != bin || ev.Exec.Exe != bin || ev.Exec.Cwd != cwd {
		t.Errorf("exec: ret=%d filename=%q exe=%q cwd=%q; want 0, %q, %q, %q",
			ev.Ret, ev.Exec.Filename, ev.Exec.Exe, ev.Exec.Cwd, bin, bin, cwd)
	}
	want := append([]string{bin}, args...)
	if got := ev.Exec.Argv(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("argv: got %d elements, want %d (first diff near %q)", len(got), len(want), firstDiff(got, want))
	}
	if ev.Exec.Flags&event.ExecArgsTruncated != 0 {
		t.Errorf("argv of %d bytes flagged truncated", len(strings.Join(want, " ")))
	}
	if ev.PPID != uint32(os.Getpid()) || ev.Comm != "vigil-argv-test"[:15] || ev.Syscall != unix.SYS_EXECVE {
		t.Errorf("header: ppid=%d comm=%q syscall=%d", ev.PPID, ev.Comm, ev.Syscall)
	}
	if ev.Exec.UID != 0 || ev.Exec.EUID != 0 || ev.Exec.CapEffective == 0 || ev.Exec.MntNS == 0 {
		t.Errorf("identity: uid=%d euid=%d capeff=%#x mntns=%d", ev.Exec.UID, ev.Exec.EUID, ev.Exec.CapEffective, ev.Exec.MntNS)
	}
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/mnt", &st); err == nil && uint64(ev.Exec.MntNS) != st.Ino {
		t.Errorf("mnt ns %d, want %d", ev.Exec.MntNS, st.Ino)
	}
	exit := waitFor(t, 1, func(e *event.Event) bool { return e.Kind == event.KindExit && e.PID == pid })[0]
	if exit.Exit.Code != 0 || exit.Exit.Signal != 0 || exit.Timestamp < ev.Timestamp {
		t.Errorf("exit: %+v at %d, exec at %d", exit.Exit, exit.Timestamp, ev.Timestamp)
	}
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return a[i]
		}
	}
	return ""
}

func TestExitCodeAndSignal(t *testing.T) {
	sensorFor(t)
	failing := exec.Command("/bin/sh", "-c", "exit 7")
	testutil.RunToExit(t, failing)
	killed := exec.Command("/bin/sh", "-c", "kill -9 $$")
	testutil.RunToExit(t, killed)
	for _, c := range []struct {
		pid          int
		code, signal uint32
	}{{failing.Process.Pid, 7, 0}, {killed.Process.Pid, 0, 9}} {
		pid := uint32(c.pid)
		ev := waitFor(t, 1, func(e *event.Event) bool { return e.Kind == event.KindExit && e.PID == pid })[0]
		if ev.Exit.Code != c.code || ev.Exit.Signal != c.signal {
			t.Errorf("pid %d exit %+v, want code %d signal %d", pid, ev.Exit, c.code, c.signal)
		}
	}
}

func TestFailedExec(t *testing.T) {
	sensorFor(t)
	missing := filepath.Join(t.TempDir(), "no-such-program")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"=execfail")
	cmd.Args = append(cmd.Args, missing)
	testutil.RunToExit(t, cmd)
	pid := uint32(cmd.Process.Pid)
	ev := waitFor(t, 1, func(e *event.Event) bool {
		return e.Kind == event.KindExec && e.PID == pid && e.Ret < 0
	})[0]
	if ev.Ret != -int64(unix.ENOENT) || ev.Exec.Filename != missing || ev.Exec.Args != missing+"\x00x" || ev.Exec.Exe != "" {
		t.Errorf("failed exec: ret=%d filename=%q args=%q exe=%q", ev.Ret, ev.Exec.Filename, ev.Exec.Args, ev.Exec.Exe)
	}
}

func TestOpenResolvesDirfd(t *testing.T) {
	sensorFor(t)
	dir := t.TempDir()
	pid, out := runHelper(t, "openat", dir)
	var fd, fd2, fd3 int64
	if _, err := fmt.Sscan(out, &fd, &fd2, &fd3); err != nil {
		t.Fatalf("helper printed %q: %v", out, err)
	}
	p := uint32(pid)
	opens := waitFor(t, 4, func(e *event.Event) bool {
		return e.Kind == event.KindOpen && e.PID == p && strings.HasPrefix(e.Open.Path, dir+"/")
	})
	byRaw := map[string]*event.Event{}
	for _, e := range opens {
		byRaw[e.Open.RawPath] = e
	}
	check := func(raw, path string, nr int32, flags, mode uint32, ret int64) {
		t.Helper()
		e := byRaw[raw]
		if e == nil {
			t.Errorf("no open event with raw path %q", raw)
			return
		}
		if e.Open.Path != path || e.Syscall != nr || e.Open.Flags != flags || e.Open.Mode != mode || e.Ret != ret {
			t.Errorf("open %q: path=%q nr=%d flags=%#o mode=%#o ret=%d; want %q %d %#o %#o %d",
				raw, e.Open.Path, e.Syscall, e.Open.Flags, e.Open.Mode, e.Ret, path, nr, flags, mode, ret)
		}
	}
	check("sub/../target.txt", dir+"/target.txt", unix.SYS_OPENAT, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, 0o640, fd)
	check("./target.txt", dir+"/target.txt", unix.SYS_OPENAT2, unix.O_RDONLY, 0, fd2)
	check(dir+"/created.txt", dir+"/created.txt", unix.SYS_CREAT, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, 0o600, fd3)
	check("missing/none.txt", dir+"/missing/none.txt", unix.SYS_OPENAT, unix.O_RDONLY, 0, -int64(unix.ENOENT))
	if e := byRaw["./target.txt"]; e != nil && e.Open.Resolve != unix.RESOLVE_NO_SYMLINKS {
		t.Errorf("openat2 resolve = %#x", e.Open.Resolve)
	}
}

func TestSocketTuples(t *testing.T) {
	sensorFor(t)
	sock := filepath.Join(t.TempDir(), "vigil.sock")
	pid, out := runHelper(t, "net", sock)
	p := uint32(pid)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("helper printed %q", out)
	}
	for i, line := range lines {
		var family, typ int
		var local, remote string
		if _, err := fmt.Sscan(line, &family, &typ, &local, &remote); err != nil {
			t.Fatalf("helper printed %q: %v", line, err)
		}
		t.Run(fmt.Sprintf("%d-%d", family, typ), func(t *testing.T) {
			connect := waitFor(t, 1, func(e *event.Event) bool {
				return e.Kind == event.KindSocket && e.PID == p && e.Socket.Op == event.OpConnect &&
					int(e.Socket.Family) == family && int(e.Socket.Type) == typ
			})[0]
			if connect.Ret != 0 {
				t.Errorf("connect ret %d", connect.Ret)
			}
			if family == unix.AF_UNIX {
				if connect.Socket.RemotePath != remote || connect.Socket.LocalPath != "" {
					t.Errorf("unix connect: local %q remote %q; want \"\" %q", connect.Socket.LocalPath, connect.Socket.RemotePath, remote)
				}
			} else if connect.Socket.Local.String() != local || connect.Socket.Remote.String() != remote {
				t.Errorf("connect: %s -> %s; want %s -> %s", connect.Socket.Local, connect.Socket.Remote, local, remote)
			}
			if typ != unix.SOCK_STREAM {
				return
			}
			accept := waitFor(t, 1, func(e *event.Event) bool {
				return e.Kind == event.KindSocket && e.PID == p && e.Socket.Op == event.OpAccept && int(e.Socket.Family) == family
			})[0]
			if accept.Ret < 0 || accept.Syscall != unix.SYS_ACCEPT4 {
				t.Errorf("accept ret %d syscall %d", accept.Ret, accept.Syscall)
			}
			if family == unix.AF_UNIX {
				if accept.Socket.LocalPath != remote || accept.Socket.RemotePath != "" {
					t.Errorf("unix accept: local %q remote %q; want %q \"\"", accept.Socket.LocalPath, accept.Socket.RemotePath, remote)
				}
				return
			}
			// The server sees the same connection from the other side.
			if accept.Socket.Local != connect.Socket.Remote || accept.Socket.Remote != connect.Socket.Local {
				t.Errorf("accept %s <- %s does not mirror connect %s -> %s",
					accept.Socket.Local, accept.Socket.Remote, connect.Socket.Local, connect.Socket.Remote)
			}
		})
		_ = i
	}
	bind := waitFor(t, 5, func(e *event.Event) bool {
		return e.Kind == event.KindSocket && e.PID == p && e.Socket.Op == event.OpBind
	})
	if want := netip.MustParseAddrPort("127.0.0.1:0"); bind[0].Socket.Local.Addr() != want.Addr() || bind[0].Socket.Local.Port() == 0 {
		t.Errorf("tcp bind local %s, want 127.0.0.1 with the kernel's port", bind[0].Socket.Local)
	}
	listen := waitFor(t, 3, func(e *event.Event) bool {
		return e.Kind == event.KindSocket && e.PID == p && e.Socket.Op == event.OpListen
	})
	if listen[0].Socket.Backlog != 8 || listen[0].Socket.Local != bind[0].Socket.Local {
		t.Errorf("listen backlog %d local %s; want 8 %s", listen[0].Socket.Backlog, listen[0].Socket.Local, bind[0].Socket.Local)
	}
}

func TestMemfdExec(t *testing.T) {
	sensorFor(t)
	pid, _ := runHelper(t, "memfd", "/bin/true")
	p := uint32(pid)
	ev := waitFor(t, 1, func(e *event.Event) bool {
		return e.Kind == event.KindExec && e.PID == p && e.Ret == 0 && e.Exec.Filename != os.Args[0]
	})[0]
	if !strings.HasPrefix(ev.Exec.Filename, "/dev/fd/") {
		t.Errorf("memfd exec filename %q", ev.Exec.Filename)
	}
	if ev.Exec.Flags&event.ExecFromMemfd == 0 || ev.Syscall != unix.SYS_EXECVEAT {
		t.Errorf("memfd exec: flags=%#x syscall=%d exe=%q", ev.Exec.Flags, ev.Syscall, ev.Exec.Exe)
	}
	if !strings.HasPrefix(ev.Exec.Exe, "/memfd:vigil-fileless") || ev.Exec.Args != "fileless" {
		t.Errorf("memfd exec: exe=%q args=%q", ev.Exec.Exe, ev.Exec.Args)
	}
	// The control: an ordinary exec is not flagged.
	cmd := exec.Command("/bin/true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	q := uint32(cmd.Process.Pid)
	plain := waitFor(t, 1, func(e *event.Event) bool { return e.Kind == event.KindExec && e.PID == q })[0]
	if plain.Exec.Flags&(event.ExecFromMemfd|event.ExecUpperLayer) != 0 {
		t.Errorf("plain exec flagged %#x", plain.Exec.Flags)
	}
}

func TestAgentFiltersItself(t *testing.T) {
	s := sensorFor(t)
	marker := filepath.Join(t.TempDir(), "self-marker")
	before := s.Stats().Received
	// This process is the agent: its open must not be seen...
	for range 50 {
		f, err := os.Create(marker)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// ...while a child's open of the same file is.
	cmd := exec.Command("/bin/cat", marker)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 1, func(e *event.Event) bool { return e.Kind == event.KindOpen && e.Open.Path == marker })
	if s.Stats().Received <= before {
		t.Fatal("sensor received nothing")
	}
	self := uint32(os.Getpid())
	shared.mu.Lock()
	defer shared.mu.Unlock()
	for _, e := range shared.events {
		if e.PID == self {
			t.Fatalf("saw the agent's own %s event", e.Kind)
		}
	}
}
