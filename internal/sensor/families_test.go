package sensor

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/syscalls"
	"github.com/vigilsec/vigil/internal/testutil"
)

// sysEvents waits for n generic events of the named syscall from pid, in
// the order the kernel emitted them.
func sysEvents(t *testing.T, pid int, name string, n int) []*event.Event {
	t.Helper()
	nr, ok := syscalls.Number(name)
	if !ok {
		t.Fatalf("unknown syscall %s", name)
	}
	return waitFor(t, n, func(e *event.Event) bool {
		return e.Kind == event.KindSyscall && e.PID == uint32(pid) && e.Syscall == nr
	})
}

// want describes one expected generic event: the result, the raw
// arguments that matter (by index) and the decoded slots (by slot number).
type want struct {
	ret   int64
	args  map[int]uint64
	paths map[int]string // slot -> absolute path
	vals  map[int]string // slot -> value as passed
}

func check(t *testing.T, name string, ev *event.Event, w want) {
	t.Helper()
	if ev.Ret != w.ret {
		t.Errorf("%s: ret %d, want %d", name, ev.Ret, w.ret)
	}
	for i, v := range w.args {
		if ev.Sys.Args[i] != v {
			t.Errorf("%s: arg %d = %#o, want %#o", name, i, ev.Sys.Args[i], v)
		}
	}
	for i, p := range w.paths {
		if ev.Sys.Slots[i].Path != p {
			t.Errorf("%s: slot %d path %q, want %q", name, i, ev.Sys.Slots[i].Path, p)
		}
	}
	for i, v := range w.vals {
		if ev.Sys.Slots[i].Value != v {
			t.Errorf("%s: slot %d value %q, want %q", name, i, ev.Sys.Slots[i].Value, v)
		}
	}
}

func TestFileSyscalls(t *testing.T) {
	sensorFor(t)
	dir := t.TempDir()
	pid, _ := runHelper(t, "files", dir)
	j := func(n string) string { return filepath.Join(dir, n) }
	one := func(name string) *event.Event { return sysEvents(t, pid, name, 1)[0] }
	dirfd := func(e *event.Event) uint64 { return e.Sys.Args[0] } // the helper's directory fd

	check(t, "mkdir", one("mkdir"), want{args: map[int]uint64{1: 0o750}, paths: map[int]string{0: j("d1")}})
	e := one("mkdirat")
	check(t, "mkdirat", e, want{args: map[int]uint64{2: 0o700}, paths: map[int]string{0: j("d2")}, vals: map[int]string{0: "d2"}})
	fd := dirfd(e)
	check(t, "rename", one("rename"), want{paths: map[int]string{0: j("a"), 1: j("b")}})
	check(t, "renameat2", one("renameat2"), want{args: map[int]uint64{0: fd, 2: fd, 4: unix.RENAME_NOREPLACE},
		paths: map[int]string{0: j("b"), 1: j("c")}})
	check(t, "symlink", one("symlink"), want{vals: map[int]string{0: "c"}, paths: map[int]string{1: j("sym")}})
	check(t, "symlinkat", one("symlinkat"), want{vals: map[int]string{0: "/etc/passwd"}, paths: map[int]string{1: j("sym2")}})
	check(t, "link", one("link"), want{paths: map[int]string{0: j("c"), 1: j("hard")}})
	check(t, "linkat", one("linkat"), want{paths: map[int]string{0: j("hard"), 1: j("hard2")}})
	check(t, "chmod", one("chmod"), want{args: map[int]uint64{1: 0o600}, paths: map[int]string{0: j("c")}})
	check(t, "fchmodat", one("fchmodat"), want{args: map[int]uint64{2: 0o640}, paths: map[int]string{0: j("c")}})
	check(t, "chown", one("chown"), want{args: map[int]uint64{1: 1, 2: 2}, paths: map[int]string{0: j("c")}})
	check(t, "lchown", one("lchown"), want{args: map[int]uint64{1: 3, 2: 4}, paths: map[int]string{0: j("sym")}})
	check(t, "fchownat", one("fchownat"), want{args: map[int]uint64{2: 5, 3: 6}, paths: map[int]string{0: j("c")}})
	check(t, "truncate", one("truncate"), want{args: map[int]uint64{1: 2}, paths: map[int]string{0: j("c")}})
	// fd arguments are resolved to the file they refer to, in the kernel.
	check(t, "fchmod", one("fchmod"), want{args: map[int]uint64{1: 0o604}, paths: map[int]string{0: j("c")}})
	check(t, "fchown", one("fchown"), want{args: map[int]uint64{1: 7, 2: 8}, paths: map[int]string{0: j("c")}})
	check(t, "ftruncate", one("ftruncate"), want{args: map[int]uint64{1: 1}, paths: map[int]string{0: j("c")}})
	check(t, "unlinkat", one("unlinkat"), want{args: map[int]uint64{2: unix.AT_REMOVEDIR}, paths: map[int]string{0: j("d2")}})
	check(t, "rmdir", one("rmdir"), want{paths: map[int]string{0: j("d1")}})
	unlinks := sysEvents(t, pid, "unlink", 2)
	check(t, "unlink", unlinks[0], want{paths: map[int]string{0: j("hard")}})
	check(t, "unlink missing", unlinks[1], want{ret: -int64(unix.ENOENT), paths: map[int]string{0: j("missing")}})
}

func TestDescriptorSyscalls(t *testing.T) {
	sensorFor(t)
	pid, _ := runHelper(t, "fds")
	pipe := sysEvents(t, pid, "pipe2", 1)[0]
	if pipe.Ret != 0 || pipe.Sys.Args[1] != unix.O_CLOEXEC || len(pipe.Sys.Slots[0].Value) != 8 {
		t.Fatalf("pipe2: ret %d flags %#x fds %q", pipe.Ret, pipe.Sys.Args[1], pipe.Sys.Slots[0].Value)
	}
	rfd := uint64(le32(pipe.Sys.Slots[0].Value[:4]))
	wfd := uint64(le32(pipe.Sys.Slots[0].Value[4:]))
	dup := sysEvents(t, pid, "dup", 1)[0]
	check(t, "dup", dup, want{ret: dup.Ret, args: map[int]uint64{0: rfd}})
	if dup.Ret < 3 {
		t.Errorf("dup ret %d", dup.Ret)
	}
	check(t, "dup2", sysEvents(t, pid, "dup2", 1)[0], want{ret: 40, args: map[int]uint64{0: wfd, 1: 40}})
	// The Go runtime dup3s too while it starts the helper: pick ours.
	dup3 := waitFor(t, 1, func(e *event.Event) bool {
		return e.PID == uint32(pid) && e.Kind == event.KindSyscall && e.Syscall == unix.SYS_DUP3 && e.Sys.Args[1] == 41
	})[0]
	check(t, "dup3", dup3, want{ret: 41, args: map[int]uint64{0: wfd, 1: 41, 2: unix.O_CLOEXEC}})
	fcntls := waitFor(t, 1, func(e *event.Event) bool {
		return e.PID == uint32(pid) && e.Kind == event.KindSyscall && e.Syscall == unix.SYS_FCNTL && e.Sys.Args[1] == unix.F_DUPFD_CLOEXEC
	})
	check(t, "fcntl", fcntls[0], want{ret: 50, args: map[int]uint64{0: rfd, 2: 50}})
	closes := waitFor(t, 2, func(e *event.Event) bool {
		return e.PID == uint32(pid) && e.Kind == event.KindSyscall && e.Syscall == unix.SYS_CLOSE &&
			(e.Sys.Args[0] == uint64(dup.Ret) || e.Sys.Args[0] == 999)
	})
	check(t, "close", closes[0], want{args: map[int]uint64{0: uint64(dup.Ret)}})
	check(t, "close bad fd", closes[1], want{ret: -int64(unix.EBADF), args: map[int]uint64{0: 999}})
	sp := sysEvents(t, pid, "socketpair", 1)[0]
	check(t, "socketpair", sp, want{args: map[int]uint64{0: unix.AF_UNIX, 1: unix.SOCK_STREAM}})
	check(t, "shutdown", sysEvents(t, pid, "shutdown", 1)[0], want{args: map[int]uint64{0: uint64(le32(sp.Sys.Slots[0].Value[:4])), 1: unix.SHUT_WR}})
}

func le32(s string) uint32 {
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

func TestNetworkIOSyscalls(t *testing.T) {
	sensorFor(t)
	pid, _ := runHelper(t, "netio")
	sockets := sysEvents(t, pid, "socket", 2)
	check(t, "socket", sockets[0], want{ret: sockets[0].Ret, args: map[int]uint64{0: unix.AF_INET, 1: unix.SOCK_DGRAM, 2: 0}})
	check(t, "socket cloexec", sockets[1], want{ret: sockets[1].Ret, args: map[int]uint64{1: unix.SOCK_DGRAM | unix.SOCK_CLOEXEC}})
	send := sysEvents(t, pid, "sendto", 1)[0]
	if send.Ret != 4 || send.Sys.Args[0] != uint64(sockets[1].Ret) || send.Sys.Args[2] != 4 {
		t.Errorf("sendto: ret %d fd %d size %d", send.Ret, send.Sys.Args[0], send.Sys.Args[2])
	}
	// The destination sockaddr is decoded; the payload is not copied by default.
	sa := send.Sys.Slots[1].Value
	if len(sa) != 16 || sa[0] != unix.AF_INET || sa[4] != 127 || sa[7] != 1 || send.Sys.Slots[0].Value != "" {
		t.Errorf("sendto: sockaddr %q payload %q", sa, send.Sys.Slots[0].Value)
	}
	recv := sysEvents(t, pid, "recvfrom", 1)[0]
	check(t, "recvfrom", recv, want{ret: 4, args: map[int]uint64{0: uint64(sockets[0].Ret), 2: 16}})
	check(t, "sendmsg", sysEvents(t, pid, "sendmsg", 1)[0], want{ret: 4, args: map[int]uint64{0: uint64(sockets[1].Ret)}})
	check(t, "recvmsg", sysEvents(t, pid, "recvmsg", 1)[0], want{ret: 4, args: map[int]uint64{0: uint64(sockets[0].Ret)}})
}

func TestProcessSyscalls(t *testing.T) {
	sensorFor(t)
	pid, out := runHelper(t, "procs")
	var child uint64
	if _, err := fmt.Sscan(out, &child); err != nil {
		t.Fatalf("helper printed %q: %v", out, err)
	}
	prctl := waitFor(t, 1, func(e *event.Event) bool {
		return e.PID == uint32(pid) && e.Kind == event.KindSyscall && e.Syscall == unix.SYS_PRCTL && e.Sys.Args[0] == unix.PR_SET_NAME
	})[0]
	check(t, "prctl", prctl, want{args: map[int]uint64{0: unix.PR_SET_NAME}})
	memfd := sysEvents(t, pid, "memfd_create", 1)[0]
	check(t, "memfd_create", memfd, want{ret: memfd.Ret, args: map[int]uint64{1: unix.MFD_CLOEXEC}, vals: map[int]string{0: "vigil-memfd"}})
	check(t, "kill", sysEvents(t, pid, "kill", 1)[0], want{args: map[int]uint64{0: uint64(pid), 1: 0}})
	// The Go runtime tgkills its own threads (preemption): pick the probe, signal 0.
	tgkill := waitFor(t, 1, func(e *event.Event) bool {
		return e.PID == uint32(pid) && e.Kind == event.KindSyscall && e.Syscall == unix.SYS_TGKILL && e.Sys.Args[2] == 0
	})[0]
	check(t, "tgkill", tgkill, want{args: map[int]uint64{0: uint64(pid), 2: 0}})
	traces := sysEvents(t, pid, "ptrace", 2)
	check(t, "ptrace attach", traces[0], want{args: map[int]uint64{0: unix.PTRACE_ATTACH, 1: child}})
	check(t, "ptrace detach", traces[1], want{args: map[int]uint64{0: unix.PTRACE_DETACH, 1: child}})

	tm, _ := runHelper(t, "traceme")
	check(t, "ptrace traceme", sysEvents(t, tm, "ptrace", 1)[0], want{args: map[int]uint64{0: unix.PTRACE_TRACEME}})
}

func TestSetuidByUnprivilegedUser(t *testing.T) {
	sensorFor(t)
	// The unprivileged user must be able to reach the test binary.
	dir := testutil.PublicTempDir(t, "vigil-setuid")
	bin := filepath.Join(dir, "helper")
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), helperEnv+"=setuid")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("setuid helper: %v %s", err, out)
	}
	// Before exec, the runtime's own setuid(65534) succeeds; the helper's
	// setuid(0) afterwards must be refused.
	ev := waitFor(t, 1, func(e *event.Event) bool {
		return e.PID == uint32(cmd.Process.Pid) && e.Kind == event.KindSyscall && e.Syscall == unix.SYS_SETUID && e.Sys.Args[0] == 0
	})[0]
	check(t, "setuid", ev, want{ret: -int64(unix.EPERM), args: map[int]uint64{0: 0}})
}

func TestModuleSyscalls(t *testing.T) {
	sensorFor(t)
	dir := t.TempDir()
	pid, _ := runHelper(t, "kernel", dir)
	fin := sysEvents(t, pid, "finit_module", 1)[0]
	if fin.Ret >= 0 || fin.Sys.Slots[0].Path != filepath.Join(dir, "not-a-module.ko") || fin.Sys.Slots[1].Value != "vigil_param=1" {
		t.Errorf("finit_module: ret %d file %q params %q", fin.Ret, fin.Sys.Slots[0].Path, fin.Sys.Slots[1].Value)
	}
	// ENOENT, or ENOSYS on kernels built without module unloading.
	del := sysEvents(t, pid, "delete_module", 1)[0]
	if del.Ret != -int64(unix.ENOENT) && del.Ret != -int64(unix.ENOSYS) {
		t.Errorf("delete_module ret %d", del.Ret)
	}
	check(t, "delete_module", del, want{ret: del.Ret, args: map[int]uint64{1: unix.O_NONBLOCK}, vals: map[int]string{0: "vigil_no_such_module"}})
}

func TestNamespaceAndMountSyscalls(t *testing.T) {
	sensorFor(t)
	dir := t.TempDir()
	pid, _ := runHelper(t, "namespaces", dir)
	check(t, "unshare", sysEvents(t, pid, "unshare", 1)[0], want{args: map[int]uint64{0: unix.CLONE_NEWNS}})
	mounts := sysEvents(t, pid, "mount", 2)
	m := mounts[1]
	check(t, "mount", m, want{args: map[int]uint64{3: unix.MS_NOSUID},
		vals: map[int]string{0: "vigil-tmpfs", 2: "tmpfs"}, paths: map[int]string{1: filepath.Join(dir, "mnt")}})
	check(t, "umount2", sysEvents(t, pid, "umount2", 1)[0], want{args: map[int]uint64{1: unix.MNT_DETACH}, paths: map[int]string{0: filepath.Join(dir, "mnt")}})
	check(t, "setns", sysEvents(t, pid, "setns", 1)[0], want{args: map[int]uint64{1: unix.CLONE_NEWUTS}})
	// dir is not a mount point, so pivot_root fails; the errno varies by kernel.
	pivot := sysEvents(t, pid, "pivot_root", 1)[0]
	if pivot.Ret >= 0 {
		t.Errorf("pivot_root succeeded: %d", pivot.Ret)
	}
	check(t, "pivot_root", pivot, want{ret: pivot.Ret, paths: map[int]string{0: dir, 1: filepath.Join(dir, "mnt")}})
	check(t, "chroot", sysEvents(t, pid, "chroot", 1)[0], want{paths: map[int]string{0: dir}})
}
