package proc

import (
	"fmt"
	"testing"

	"github.com/vigilsec/vigil/internal/event"
	"golang.org/x/sys/unix"
)

// TestFDTableFollowsCalls drives one process through every call the table
// understands and checks the table after each group.
func TestFDTableFollowsCalls(t *testing.T) {
	tab := New()
	var c fdClock
	apply(tab, c.exec(100, 1))
	apply(tab, c.open(100, "/etc/passwd", unix.O_RDONLY|unix.O_CLOEXEC, 3))
	apply(tab, c.open(100, "/var/log", unix.O_RDONLY|unix.O_DIRECTORY, 4))
	apply(tab, c.open(100, "/tmp", unix.O_RDWR|unix.O_TMPFILE, 6))
	apply(tab, c.open(100, "/nope", 0, -2))
	s := fds(t, tab, 100)
	wantFD(t, s, 3, FDFile, "/etc/passwd", true)
	wantFD(t, s, 4, FDDirectory, "/var/log", false)
	wantFD(t, s, 6, FDFile, "/tmp", false)
	if s.Len() != 3 {
		t.Fatalf("%d fds after three opens", s.Len())
	}

	// socket, connect, then the reverse shell's dup2s onto 0, 1 and 2.
	apply(tab, c.sys(100, "socket", 5, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0))
	apply(tab, c.sock(100, event.OpConnect, 5, 0, "127.0.0.1:40000", "127.0.0.1:4444"))
	apply(tab, c.sys(100, "dup2", 0, 5, 0))
	apply(tab, c.sys(100, "dup2", 1, 5, 1))
	apply(tab, c.sys(100, "dup3", 2, 5, 2, unix.O_CLOEXEC))
	apply(tab, c.sys(100, "dup2", -9, 77, 8)) // EBADF: nothing changes
	s = fds(t, tab, 100)
	sock := wantFD(t, s, 5, FDIPv4, "", true)
	if sock.Role != RoleClient || sock.Flags&FDConnected == 0 || sock.L4Proto() != "tcp" ||
		sock.Local.String() != "127.0.0.1:40000" || sock.Remote.String() != "127.0.0.1:4444" {
		t.Fatalf("connected socket %+v", sock)
	}
	for fd, cloexec := range map[int32]bool{0: false, 1: false, 2: true} {
		if e := wantFD(t, s, fd, FDIPv4, "", cloexec); e.Remote != sock.Remote {
			t.Fatalf("fd %d does not share the socket: %+v", fd, e)
		}
	}
	wantNoFD(t, s, 8)

	// exec closes the close-on-exec fds: 2, 3 and 5.
	apply(tab, c.exec(100, 1))
	s = fds(t, tab, 100)
	wantNoFD(t, s, 2, 3, 5)
	wantFD(t, s, 0, FDIPv4, "", false)
	wantFD(t, s, 4, FDDirectory, "/var/log", false)
	if s.Len() != 4 {
		t.Fatalf("%d fds after exec, want 0, 1, 4, 6", s.Len())
	}

	// close, including a failed one and one that fails after releasing.
	apply(tab, c.sys(100, "close", 0, 4))
	apply(tab, c.sys(100, "close", -int64(unix.EBADF), 1))
	apply(tab, c.sys(100, "close", -int64(unix.EINTR), 6))
	s = fds(t, tab, 100)
	wantNoFD(t, s, 4, 6)
	wantFD(t, s, 1, FDIPv4, "", false)
}

func TestFDTableCreators(t *testing.T) {
	tab := New()
	var c fdClock
	apply(tab, c.exec(100, 1))
	apply(tab, pair(c.sys(100, "pipe2", 0, 0, unix.O_CLOEXEC), 3, 4))
	apply(tab, pair(c.sys(100, "pipe", 0, 0), 5, 6))
	apply(tab, pair(c.sys(100, "socketpair", 0, unix.AF_UNIX, unix.SOCK_STREAM, 0, 0), 7, 8))
	apply(tab, pair(c.sys(100, "pipe", -24, 0), 9, 10)) // EMFILE
	mfd := c.sys(100, "memfd_create", 11, 0, unix.MFD_CLOEXEC)
	mfd.Sys.Slots[0].Value = "payload"
	apply(tab, mfd)
	apply(tab, c.sys(100, "bpf", 12, 5, 0, 0))   // BPF_PROG_LOAD
	apply(tab, c.sys(100, "bpf", 0, 2, 0, 0))    // BPF_MAP_UPDATE_ELEM: no fd
	apply(tab, c.sys(100, "eventfd2", 13, 0, 0)) // not close-on-exec
	apply(tab, c.sys(100, "epoll_create1", 14, unix.EPOLL_CLOEXEC))
	apply(tab, c.sys(100, "inotify_init1", 15, 0))
	apply(tab, c.sys(100, "pidfd_open", 16, 1, 0)) // always close-on-exec
	apply(tab, c.sys(100, "socket", 17, unix.AF_PACKET, unix.SOCK_RAW, 0x300))
	apply(tab, c.sys(100, "socket", 18, unix.AF_INET6, unix.SOCK_DGRAM, 0))
	s := fds(t, tab, 100)
	wantFD(t, s, 3, FDPipe, "", true)
	wantFD(t, s, 4, FDPipe, "", true)
	wantFD(t, s, 5, FDPipe, "", false)
	wantFD(t, s, 7, FDUnix, "", false)
	wantFD(t, s, 8, FDUnix, "", false)
	wantNoFD(t, s, 9, 10)
	wantFD(t, s, 11, FDMemfd, "memfd:payload", true)
	wantFD(t, s, 12, FDBPF, "anon_inode:bpf-prog", true)
	wantFD(t, s, 13, FDEvent, "anon_inode:[eventfd]", false)
	wantFD(t, s, 14, FDEventpoll, "anon_inode:[eventpoll]", true)
	wantFD(t, s, 15, FDInotify, "anon_inode:inotify", false)
	wantFD(t, s, 16, FDPidfd, "anon_inode:[pidfd]", true)
	wantFD(t, s, 17, FDUnknown, "", false)
	if e := wantFD(t, s, 18, FDIPv6, "", false); e.L4Proto() != "udp" {
		t.Errorf("udp6 socket l4 %q", e.L4Proto())
	}
	if s.Len() != 14 {
		t.Fatalf("%d fds", s.Len())
	}

	// fcntl: F_DUPFD_CLOEXEC, F_DUPFD, then F_SETFD both ways.
	apply(tab, c.sys(100, "fcntl", 30, 5, unix.F_DUPFD_CLOEXEC, 30))
	apply(tab, c.sys(100, "fcntl", 31, 5, unix.F_DUPFD, 31))
	apply(tab, c.sys(100, "fcntl", 0, 31, unix.F_SETFD, unix.FD_CLOEXEC))
	apply(tab, c.sys(100, "fcntl", 0, 3, unix.F_SETFD, 0))
	apply(tab, c.sys(100, "fcntl", 0, 3, unix.F_SETFL, unix.O_NONBLOCK))
	apply(tab, c.sys(100, "dup", 32, 13))
	apply(tab, c.sys(100, "dup", 33, 99)) // unknown source: nothing to copy
	s = fds(t, tab, 100)
	wantFD(t, s, 30, FDPipe, "", true)
	wantFD(t, s, 31, FDPipe, "", true)
	wantFD(t, s, 3, FDPipe, "", false)
	wantFD(t, s, 32, FDEvent, "anon_inode:[eventfd]", false)
	wantNoFD(t, s, 33)

	// dup2 from an fd the table does not know forgets the target.
	apply(tab, c.sys(100, "dup2", 7, 99, 7))
	wantNoFD(t, fds(t, tab, 100), 7)

	// close_range: mark 11-14 close-on-exec, then close 30 and up.
	apply(tab, c.sys(100, "close_range", 0, 11, 14, unix.CLOSE_RANGE_CLOEXEC))
	apply(tab, c.sys(100, "close_range", 0, 30, ^uint64(0)>>32, 0))
	s = fds(t, tab, 100)
	wantFD(t, s, 13, FDEvent, "anon_inode:[eventfd]", true)
	wantFD(t, s, 15, FDInotify, "anon_inode:inotify", false)
	wantNoFD(t, s, 30, 31, 32)
	if s.Len() != 13 {
		t.Fatalf("%d fds after close_range", s.Len())
	}
}

func TestFDTableSockets(t *testing.T) {
	tab := New()
	var c fdClock
	apply(tab, c.exec(100, 1))
	apply(tab, c.sys(100, "socket", 3, unix.AF_INET, unix.SOCK_STREAM, 0))
	apply(tab, c.sock(100, event.OpBind, 3, 0, "0.0.0.0:8080", ""))
	apply(tab, c.sock(100, event.OpListen, 3, 0, "0.0.0.0:8080", ""))
	apply(tab, c.sock(100, event.OpAccept, 3, 4, "10.0.0.1:8080", "10.0.0.9:50000"))
	apply(tab, c.sock(100, event.OpAccept, 3, -11, "", "")) // EAGAIN
	s := fds(t, tab, 100)
	l := wantFD(t, s, 3, FDIPv4, "", false)
	if l.Role != RoleServer || l.Flags&FDListening == 0 || l.Local.String() != "0.0.0.0:8080" {
		t.Fatalf("listener %+v", l)
	}
	a := wantFD(t, s, 4, FDIPv4, "", false)
	cl, sv, cok, sok := a.Ends()
	if !cok || !sok || cl.String() != "10.0.0.9:50000" || sv.String() != "10.0.0.1:8080" || a.Flags&FDConnected == 0 {
		t.Fatalf("accepted %+v: client %v server %v", a, cl, sv)
	}

	// A socket dup'd before connect: both fds see the connection.
	apply(tab, c.sys(100, "socket", 5, unix.AF_INET, unix.SOCK_STREAM, 0))
	apply(tab, c.sys(100, "dup2", 0, 5, 0))
	apply(tab, c.sock(100, event.OpConnect, 0, -int64(unix.EINPROGRESS), "10.0.0.1:40000", "1.2.3.4:443"))
	s = fds(t, tab, 100)
	for _, fd := range []int32{0, 5} {
		e := wantFD(t, s, fd, FDIPv4, "", false)
		if e.Role != RoleClient || e.Remote.String() != "1.2.3.4:443" || e.Flags&FDConnected != 0 {
			t.Fatalf("fd %d after a non-blocking connect: %+v", fd, e)
		}
	}
	// A refused connect leaves the socket as it was.
	apply(tab, c.sys(100, "socket", 6, unix.AF_INET, unix.SOCK_STREAM, 0))
	apply(tab, c.sock(100, event.OpConnect, 6, -int64(unix.ECONNREFUSED), "", "1.2.3.4:22"))
	if e := wantFD(t, fds(t, tab, 100), 6, FDIPv4, "", false); e.Remote.IsValid() {
		t.Fatalf("refused connect recorded a peer: %+v", e)
	}
}

func TestFDTableForkInheritsStateAtFork(t *testing.T) {
	tab := New()
	var c fdClock
	apply(tab, c.exec(100, 1))
	apply(tab, c.open(100, "/a", 0, 3))
	apply(tab, c.open(100, "/b", unix.O_CLOEXEC, 4))
	fork := c.fork(100, 200)
	// The parent's worker runs ahead: it closes 3 and opens 5 after the
	// fork, before the child's worker handles the fork.
	apply(tab, c.sys(100, "close", 0, 3))
	apply(tab, c.open(100, "/c", 0, 5))
	apply(tab, fork)
	child := fds(t, tab, 200)
	wantFD(t, child, 3, FDFile, "/a", false)
	wantFD(t, child, 4, FDFile, "/b", true)
	wantNoFD(t, child, 5)
	if st := tab.Stats(); st.FDForkStale != 0 || st.FDs != 4 {
		t.Fatalf("stats %+v", st)
	}

	// The child's changes are its own, and a thread shares its process's.
	apply(tab, c.sys(200, "close", 0, 3))
	apply(tab, forkEvent(200, 100, 200, true))
	apply(tab, c.open(200, "/t", 0, 6))
	wantFD(t, fds(t, tab, 100), 5, FDFile, "/c", false)
	wantNoFD(t, fds(t, tab, 100), 6)
	wantFD(t, fds(t, tab, 200), 6, FDFile, "/t", false)

	// Daemonising: the parent forks, closes and exits before its child's
	// fork is handled; the child still inherits from the exited parent.
	fork = c.fork(200, 300)
	apply(tab, c.sys(200, "close", 0, 4))
	apply(tab, exitEvent(200, 100))
	apply(tab, fork)
	wantFD(t, fds(t, tab, 300), 4, FDFile, "/b", true)
	wantFD(t, fds(t, tab, 300), 6, FDFile, "/t", false)
}

// TestFDHistoryIsBounded checks that a busy process keeps a bounded chain
// of versions, and that a fork older than what is kept is counted.
func TestFDHistoryIsBounded(t *testing.T) {
	tab := New()
	var c fdClock
	apply(tab, c.exec(100, 1))
	fork := c.fork(100, 200)
	for i := range 1000 {
		apply(tab, c.open(100, fmt.Sprintf("/f%d", i), 0, 3))
	}
	n := 0
	for v := mustGet(t, tab, 100).Files.head.Load(); v != nil; v = v.prev.Load() {
		n++
	}
	if n > 2*fdHistory+1 {
		t.Fatalf("%d versions kept", n)
	}
	apply(tab, fork)
	if tab.Stats().FDForkStale != 1 {
		t.Fatalf("stale fork not counted: %+v", tab.Stats())
	}

	// Versions more than the window apart drop the history at once.
	c.now += 2 * fdHistoryWindow
	apply(tab, c.open(100, "/late", 0, 4))
	n = 0
	for v := mustGet(t, tab, 100).Files.head.Load(); v != nil; v = v.prev.Load() {
		n++
	}
	if n != 2 {
		t.Fatalf("%d versions after a quiet second, want 2", n)
	}
}

func TestFDCapPerProcess(t *testing.T) {
	tab := New()
	var c fdClock
	apply(tab, c.exec(100, 1))
	e := &FD{Type: FDFile, Name: "/x"}
	f := mustGet(t, tab, 100).Files
	for fd := range int32(MaxFDsPerProcess + 10) {
		tab.setFDs(f, c.tick(), fd, e, false, -1, nil, false)
	}
	if got := f.Current().Len(); got != MaxFDsPerProcess {
		t.Fatalf("%d fds tracked", got)
	}
	if st := tab.Stats(); st.FDsDropped != 10 || st.FDs != MaxFDsPerProcess {
		t.Fatalf("stats %+v", st)
	}
	// Replacing a tracked fd is not a new one.
	apply(tab, c.open(100, "/y", 0, 5))
	wantFD(t, f.Current(), 5, FDFile, "/y", false)
	apply(tab, exitEvent(100, 1))
	if st := tab.Stats(); st.FDs != 0 {
		t.Fatalf("an exited process's fds are still counted: %+v", st)
	}
}

func TestFDEventsForUnknownProcess(t *testing.T) {
	tab := New()
	var c fdClock
	apply(tab, c.open(999, "/etc/passwd", 0, 3))
	apply(tab, c.sys(999, "close", 0, 3))
	if _, ok := tab.Get(999); ok || tab.Stats().FDs != 0 {
		t.Fatal("an fd event created an entry")
	}
	// A fork from an unknown parent gives an empty, usable table.
	apply(tab, c.fork(999, 1000))
	apply(tab, c.open(1000, "/x", 0, 3))
	wantFD(t, fds(t, tab, 1000), 3, FDFile, "/x", false)
}
