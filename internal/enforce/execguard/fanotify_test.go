package execguard

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// execPerm is a test-only FAN_OPEN_EXEC_PERM listener on a tmpfs it mounts:
// every exec of a file there waits until the test answers, which is the
// moment Pending must describe.
type execPerm struct {
	fd        int
	dir       string
	reportTID bool // metadata pid is the thread id, not the tgid
}

func newExecPerm(t *testing.T) *execPerm {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=64m,mode=0755"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	l := &execPerm{dir: dir, reportTID: true}
	fd, err := unix.FanotifyInit(unix.FAN_CLASS_CONTENT|unix.FAN_CLOEXEC|unix.FAN_REPORT_TID, unix.O_RDONLY|unix.O_CLOEXEC)
	if errors.Is(err, unix.EINVAL) {
		l.reportTID = false
		fd, err = unix.FanotifyInit(unix.FAN_CLASS_CONTENT|unix.FAN_CLOEXEC, unix.O_RDONLY|unix.O_CLOEXEC)
	}
	if err != nil {
		t.Fatalf("fanotify_init: %v", errors.Join(err, unix.Unmount(dir, unix.MNT_DETACH)))
	}
	l.fd = fd
	// Closing the group answers every pending permission event with allow,
	// so a failed test cannot leave an exec hanging.
	t.Cleanup(func() {
		unix.Close(fd)
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	if err := unix.FanotifyMark(fd, unix.FAN_MARK_ADD|unix.FAN_MARK_MOUNT, unix.FAN_OPEN_EXEC_PERM, unix.AT_FDCWD, dir); err != nil {
		t.Fatalf("fanotify_mark %s: %v", dir, err)
	}
	return l
}

// permEvent is one exec waiting for an answer.
type permEvent struct {
	pid  int32 // tid with FAN_REPORT_TID, else tgid
	fd   int32
	path string // the file being exec'd
}

// next waits (up to 10 s) for the next exec on the tmpfs.
func (l *execPerm) next(t *testing.T) permEvent {
	t.Helper()
	fds := []unix.PollFd{{Fd: int32(l.fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 10_000)
	if err != nil || n == 0 {
		t.Fatalf("no fanotify event within 10 s (poll: %d, %v)", n, err)
	}
	buf := make([]byte, 4096)
	n, err = unix.Read(l.fd, buf)
	if err != nil {
		t.Fatalf("read fanotify: %v", err)
	}
	var meta unix.FanotifyEventMetadata
	if n < int(unsafe.Sizeof(meta)) {
		t.Fatalf("short fanotify read: %d bytes", n)
	}
	meta.Event_len = binary.LittleEndian.Uint32(buf[0:])
	meta.Mask = binary.LittleEndian.Uint64(buf[8:])
	meta.Fd = int32(binary.LittleEndian.Uint32(buf[16:]))
	meta.Pid = int32(binary.LittleEndian.Uint32(buf[20:]))
	if int(meta.Event_len) != n {
		t.Fatalf("fanotify read %d bytes, event of %d: one exec at a time expected", n, meta.Event_len)
	}
	if meta.Mask&unix.FAN_OPEN_EXEC_PERM == 0 {
		t.Fatalf("fanotify mask %#x without FAN_OPEN_EXEC_PERM", meta.Mask)
	}
	path, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", meta.Fd))
	if err != nil {
		t.Fatal(err)
	}
	return permEvent{pid: meta.Pid, fd: meta.Fd, path: path}
}

// allow lets the exec go on.
func (l *execPerm) allow(t *testing.T, ev permEvent) {
	t.Helper()
	var resp [8]byte
	binary.LittleEndian.PutUint32(resp[0:], uint32(ev.fd))
	binary.LittleEndian.PutUint32(resp[4:], unix.FAN_ALLOW)
	if _, err := unix.Write(l.fd, resp[:]); err != nil {
		t.Fatalf("answer fanotify: %v", err)
	}
	unix.Close(int(ev.fd))
}
