package execguard

import (
	"bufio"
	"fmt"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/testutil"
)

// pausedExec has a helper process exec bin with argv and returns the exec
// paused by l; the caller answers it. The exec must not be the test's own
// fork+exec: Go forks with vfork, and a parent thread stuck in vfork holds
// its P, so a garbage collection in the test would wait for the child,
// which waits for the test's answer.
func pausedExec(t *testing.T, l *execPerm, bin string, argv []string) (*exec.Cmd, permEvent) {
	t.Helper()
	cmd, release := execOnInput(t, argv, "HELPER_PATH="+bin)
	release()
	return cmd, l.next(t)
}

func TestPendingArgvWhileExecPaused(t *testing.T) {
	g := openGuard(t, Config{SkipKill: true})
	l := newExecPerm(t)
	bin := testutil.CopyExecutable(t, "/bin/true", filepath.Join(l.dir, "vgargv"))

	long := strings.Repeat("0123456789", 300)
	// "a", long and a third argument, each with its NUL, fill the 4 KiB
	// exactly when the third is fit bytes long.
	fit := argsMax - len("a\x00") - len(long) - 1 - 1
	cases := []struct {
		name      string
		argv      []string
		want      []string
		truncated bool
	}{
		{"empty and long args", []string{"vg-argv0", "", "second arg", long, ""}, nil, false},
		{"64 args", numbered(64), nil, false},
		{"65 args", numbered(65), numbered(64), true},
		{"over 4 KiB", []string{"a", long, long}, []string{"a", long, long[:fit]}, true},
		{"exactly 4 KiB", []string{"a", long, long[:fit]}, nil, false},
		{"one byte over 4 KiB", []string{"a", long, long[:fit+1]}, []string{"a", long, long[:fit]}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := c.want
			if want == nil {
				want = c.argv
			}
			cmd, ev := pausedExec(t, l, bin, c.argv)
			if ev.path != bin {
				t.Fatalf("paused exec of %s, want %s", ev.path, bin)
			}
			e, ok := g.Pending(uint32(ev.pid))
			l.allow(t, ev)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("%s: %v", bin, err)
			}
			if !ok {
				t.Fatalf("Pending(%d) found nothing while the exec was paused", ev.pid)
			}
			if ev.pid != int32(cmd.Process.Pid) {
				t.Fatalf("fanotify pid %d, child %d", ev.pid, cmd.Process.Pid)
			}
			if e.Filename != bin || e.Dirfd != unix.AT_FDCWD || e.Flags != 0 || e.Syscall != unix.SYS_EXECVE ||
				e.Truncated != c.truncated || e.KtimeNS == 0 {
				t.Errorf("Pending = %+v", summary(e))
			}
			if !equalArgv(e.Argv, want) {
				t.Errorf("argv = %q, want %q", e.Argv, want)
			}
			if _, ok := g.Pending(uint32(ev.pid)); ok {
				t.Errorf("Pending(%d) still set after the exec returned", ev.pid)
			}
		})
	}
	if st := g.Stats(); st.Captured < uint64(len(cases)) || st.DecodeErrors != 0 {
		t.Errorf("stats %+v", st)
	}
}

// An empty argv (argc 0) differs from one empty argument; os/exec cannot
// pass it, the execveat helper can.
func TestPendingEmptyArgv(t *testing.T) {
	g := openGuard(t, Config{SkipKill: true})
	l := newExecPerm(t)
	bin := testutil.CopyExecutable(t, "/bin/true", filepath.Join(l.dir, "vgempty"))
	cmd := helperCmd("execveat", []string{}, "HELPER_PATH="+bin)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var tid, fd int
	if _, err := fmt.Fscan(bufio.NewReader(stdout), &tid, &fd); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintln(stdin); err != nil {
		t.Fatal(err)
	}
	ev := l.next(t)
	e, ok := g.Pending(uint32(tid))
	l.allow(t, ev)
	// /bin/true with argc 0 still exits 0.
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if !ok || len(e.Argv) != 0 || e.Truncated {
		t.Fatalf("Pending(%d) = %+v, %v; want an empty argv", tid, summary(e), ok)
	}
}

func TestPendingExecveatEmptyPath(t *testing.T) {
	g := openGuard(t, Config{SkipKill: true})
	l := newExecPerm(t)
	bin := testutil.CopyExecutable(t, "/bin/true", filepath.Join(l.dir, "vgexecat"))
	argv := []string{"vg-at", "", "x y"}
	cmd := helperCmd("execveat", argv, "HELPER_PATH="+bin)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var tid, fd int
	if _, err := fmt.Fscan(bufio.NewReader(stdout), &tid, &fd); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintln(stdin); err != nil {
		t.Fatal(err)
	}
	ev := l.next(t)
	e, ok := g.Pending(uint32(tid))
	l.allow(t, ev)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if ev.path != bin {
		t.Errorf("paused exec of %s, want %s", ev.path, bin)
	}
	t.Logf("FAN_REPORT_TID with FAN_CLASS_CONTENT accepted: %v", l.reportTID)
	wantPid := cmd.Process.Pid
	if l.reportTID {
		wantPid = tid
	}
	if int(ev.pid) != wantPid {
		t.Errorf("fanotify pid %d, want %d (report tid %v)", ev.pid, wantPid, l.reportTID)
	}
	if !ok {
		t.Fatalf("Pending(%d) found nothing while the exec was paused", tid)
	}
	want := Exec{Filename: "", Argv: argv, Dirfd: int32(fd), Flags: unix.AT_EMPTY_PATH, Syscall: unix.SYS_EXECVEAT, KtimeNS: e.KtimeNS}
	if !reflect.DeepEqual(e, want) || e.KtimeNS == 0 {
		t.Errorf("Pending = %+v, want %+v", summary(e), summary(want))
	}
	// A non-leader thread exec'd: it took the leader's id, so sys_exit saw
	// another tid; sched_process_exec removed the entry under the old one.
	if tid == cmd.Process.Pid {
		t.Fatalf("the helper exec'd from its leader thread %d", tid)
	}
	for _, id := range []int{tid, cmd.Process.Pid} {
		if _, ok := g.Pending(uint32(id)); ok {
			t.Errorf("Pending(%d) still set after the exec", id)
		}
	}
}

func numbered(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("arg%d", i)
	}
	return out
}

func equalArgv(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

// summary keeps failure messages short when argv holds kilobytes.
func summary(e Exec) string {
	args := make([]string, len(e.Argv))
	for i, a := range e.Argv {
		if len(a) > 20 {
			a = fmt.Sprintf("%s...(%d bytes)", a[:20], len(a))
		}
		args[i] = a
	}
	return fmt.Sprintf("{Filename:%q Argv:%q Truncated:%v Dirfd:%d Flags:%#x Syscall:%d KtimeNS:%d}",
		e.Filename, args, e.Truncated, e.Dirfd, e.Flags, e.Syscall, e.KtimeNS)
}
