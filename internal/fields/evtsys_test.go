package fields

import (
	"encoding/binary"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/syscalls"
)

// sysEv returns a generic syscall event by curl (pid 300) with raw
// arguments; slots are laid out as the spec says and filled by withSlot().
func sysEv(t testing.TB, name string, ret int64, args ...uint64) *event.Event {
	t.Helper()
	ev := event.New()
	ev.Kind, ev.Syscall, ev.PID, ev.TID, ev.PPID, ev.Ret = event.KindSyscall, nr(t, name), 300, 300, 200, ret
	ev.Timestamp = 9_000_000
	ev.Comm = "curl"
	copy(ev.Sys.Args[:], args)
	spec, ok := syscalls.SpecFor(name)
	if !ok {
		t.Fatalf("%s is not generic", name)
	}
	n := 0
	for i, a := range spec.Args {
		if a.Slot != syscalls.SlotNone {
			ev.Sys.Slots[n] = event.Slot{Index: uint8(i), Type: event.SlotType(a.Slot)}
			n++
		}
	}
	return ev
}

// withSlot sets the value and path of the slot of argument arg.
func withSlot(t testing.TB, ev *event.Event, arg int, value, path string) *event.Event {
	t.Helper()
	for i := range ev.Sys.Slots {
		if s := &ev.Sys.Slots[i]; s.Type != 0 && int(s.Index) == arg {
			s.Value, s.Path = value, path
			return ev
		}
	}
	t.Fatalf("no slot for argument %d", arg)
	return ev
}

func sockaddr4(ip [4]byte, port uint16) string {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint16(b, unix.AF_INET)
	binary.BigEndian.PutUint16(b[2:], port)
	copy(b[4:], ip[:])
	return string(b)
}

func fdPairValue(r, w int32) string {
	var b [8]byte
	binary.LittleEndian.PutUint32(b[:], uint32(r))
	binary.LittleEndian.PutUint32(b[4:], uint32(w))
	return string(b[:])
}

// TestGenericArgumentRendering renders the arguments of each family of
// generic syscalls as rules see them.
func TestGenericArgumentRendering(t *testing.T) {
	for _, tc := range []struct {
		ev   *event.Event
		tpl  string
		want string
	}{
		// files
		{withSlot(t, withSlot(t, sysEv(t, "renameat2", 0, 3, 0, 3, 0, unix.RENAME_NOREPLACE), 1, "a", "/tmp/a"), 3, "b", "/tmp/b"),
			"%evt.type %evt.res %evt.arg.olddirfd %evt.arg.oldpath %evt.arg.newpath %evt.arg.flags",
			"renameat2 SUCCESS 3 /tmp/a /tmp/b RENAME_NOREPLACE"},
		{withSlot(t, sysEv(t, "unlinkat", -int64(unix.ENOTEMPTY), uint64(0xffffff9c), 0, unix.AT_REMOVEDIR), 1, "d", "/root/d"),
			"%evt.res %evt.failed %evt.arg.dirfd %evt.arg.name %evt.arg.path %evt.arg.flags",
			"ENOTEMPTY true -100(AT_FDCWD) /root/d /root/d AT_REMOVEDIR"},
		{withSlot(t, withSlot(t, sysEv(t, "symlink", 0), 0, "../etc/shadow", ""), 1, "l", "/tmp/l"),
			"%evt.arg.target %evt.arg.linkpath %evt.args", "../etc/shadow /tmp/l res=0 target=../etc/shadow linkpath=/tmp/l"},
		{withSlot(t, sysEv(t, "chmod", 0, 0, 0o4755), 0, "x", "/tmp/x"), "%evt.arg.filename %evt.arg.mode", "/tmp/x 04755"},
		{withSlot(t, sysEv(t, "fchown", 0, 5, 0, 0), 0, "", "/etc/sudoers"),
			"%evt.arg.fd %evt.arg.uid %fd.name %fd.num %fd.typechar %fd.directory", "5(<f>/etc/sudoers) 0 /etc/sudoers 5 f /etc"},
		{withSlot(t, sysEv(t, "mkdir", 0, 0, 0o700), 0, "d", "/tmp/d"), "%evt.arg[0] %evt.arg[1] %evt.arg[2] %evt.arg[3]", "0 /tmp/d 0700 <NA>"},
		// processes and credentials
		{sysEv(t, "ptrace", 0, unix.PTRACE_ATTACH, 4242, 0, 0), "%evt.arg.request %evt.arg.pid %evt.arg.addr", "PTRACE_ATTACH 4242 0x0"},
		{sysEv(t, "kill", 0, uint64(0xffffffff), 9), "%evt.arg.pid %evt.arg.sig", "-1 SIGKILL"},
		{sysEv(t, "tgkill", 0, 10, 11, 19), "%evt.arg.tgid %evt.arg.tid %evt.arg.sig", "10 11 SIGSTOP"},
		{sysEv(t, "clone", 400, unix.CLONE_NEWUSER|unix.CLONE_NEWNS|uint64(unix.SIGCHLD), 0, 0, 0, 0), "%evt.rawres %evt.arg.res %evt.arg.flags",
			"400 400 CLONE_NEWNS|CLONE_NEWUSER"},
		{sysEv(t, "unshare", 0, unix.CLONE_NEWNS|unix.CLONE_NEWUSER), "%evt.arg.flags", "CLONE_NEWNS|CLONE_NEWUSER"},
		{withSlot(t, sysEv(t, "setns", 0, 7, unix.CLONE_NEWNET), 0, "", "/proc/1/ns/net"), "%evt.arg.nstype %evt.arg.fd", "CLONE_NEWNET 7(<f>/proc/1/ns/net)"},
		{sysEv(t, "prctl", 0, unix.PR_SET_NAME, 0x7ffd0000, 0, 0, 0), "%evt.arg.option", "PR_SET_NAME"},
		{sysEv(t, "setresuid", -int64(unix.EPERM), 0xffffffff, 0, 0xffffffff), "%evt.res %evt.arg.ruid %evt.arg.euid", "EPERM 4294967295 0"},
		{withSlot(t, sysEv(t, "memfd_create", 6, 0, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING), 0, "stage2", ""),
			"%evt.arg.name %evt.arg.flags %evt.arg.res", "stage2 MFD_CLOEXEC|MFD_ALLOW_SEALING 6"},
		{withSlot(t, withSlot(t, withSlot(t, sysEv(t, "mount", 0, 0, 0, 0, unix.MS_NOSUID|unix.MS_BIND, 0), 0, "/dev/sda1", ""), 1, "/mnt", "/mnt"), 2, "ext4", ""),
			"%evt.arg.dev %evt.arg.dir %evt.arg.type %evt.arg.flags", "/dev/sda1 /mnt ext4 MS_NOSUID|MS_BIND"},
		{withSlot(t, sysEv(t, "umount2", 0, 0, unix.MNT_DETACH), 0, "/mnt", "/mnt"), "%evt.arg.name %evt.arg.flags", "/mnt MNT_DETACH"},
		// network
		{sysEv(t, "socket", 7, unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0x300), "%evt.arg.domain %evt.arg.type %evt.arg.proto",
			"AF_PACKET SOCK_RAW|SOCK_CLOEXEC 768"},
		{withSlot(t, sysEv(t, "socketpair", 0, unix.AF_UNIX, unix.SOCK_STREAM, 0), 3, fdPairValue(8, 9), ""),
			"%evt.arg.fds %evt.arg.fd1 %evt.arg.fd2 %evt.arg.domain", "[8,9] 8 9 AF_UNIX"},
		{withSlot(t, sysEv(t, "sendto", 4, 3, 0, 4, unix.MSG_NOSIGNAL, 0, 16), 4, sockaddr4([4]byte{10, 0, 0, 1}, 53), ""),
			"%evt.arg.tuple %evt.arg.flags %evt.arg.size %evt.arg.data|%evt.buffer", "10.0.0.1:53 MSG_NOSIGNAL 4 |"},
		{sysEv(t, "shutdown", 0, 3, unix.SHUT_WR), "%evt.arg.how", "SHUT_WR"},
		// descriptors
		{sysEv(t, "dup3", 2, 5, 2, unix.O_CLOEXEC), "%evt.arg.oldfd %evt.arg.newfd %evt.arg.flags", "5 2 O_CLOEXEC"},
		{sysEv(t, "fcntl", 10, 3, unix.F_DUPFD_CLOEXEC, 10), "%evt.arg.cmd %evt.arg.arg", "F_DUPFD_CLOEXEC 10"},
		{withSlot(t, sysEv(t, "pipe2", 0, 0, unix.O_CLOEXEC|unix.O_NONBLOCK), 0, fdPairValue(3, 4), ""), "%evt.arg.flags %evt.arg.fds", "O_CLOEXEC|O_NONBLOCK [3,4]"},
		{sysEv(t, "close_range", 0, 3, 0xffffffff, unix.CLOSE_RANGE_CLOEXEC), "%evt.arg.fd %evt.arg.max_fd %evt.arg.flags", "3 4294967295 CLOSE_RANGE_CLOEXEC"},
		{sysEv(t, "eventfd2", 5, 0, unix.EFD_CLOEXEC), "%evt.arg.flags", "EFD_CLOEXEC"},
		// kernel
		{sysEv(t, "bpf", 9, 5, 0x7ffd0000, 128), "%evt.arg.cmd %evt.arg.res_or_fd %evt.arg.size", "BPF_PROG_LOAD 9 128"},
		{withSlot(t, withSlot(t, sysEv(t, "finit_module", -int64(unix.ENOEXEC), 3, 0, 0), 0, "", "/tmp/rootkit.ko"), 1, "x=1", ""),
			"%evt.res %evt.arg.fd %evt.arg.uargs %fd.name", "ENOEXEC 3(<f>/tmp/rootkit.ko) x=1 /tmp/rootkit.ko"},
		{withSlot(t, sysEv(t, "delete_module", 0, 0, unix.O_NONBLOCK|unix.O_TRUNC), 0, "nf_tables", ""), "%evt.arg.name %evt.arg.flags", "nf_tables O_NONBLOCK|O_TRUNC"},
		// I/O with a payload
		{withSlot(t, sysEv(t, "write", 6, 1, 0, 6), 1, "hi\x00\n\xffx", ""), "%evt.arg.data %evt.arg.size %evt.res %evt.rawres", "hi...x 6 SUCCESS 6"},
	} {
		c := new(Context)
		c.Reset(nil, tc.ev, 0)
		if got := render(t, c, tc.tpl); got != tc.want {
			t.Errorf("%s: %s\n got %q\nwant %q", syscalls.Name(tc.ev.Syscall), tc.tpl, got, tc.want)
		}
		tc.ev.Release()
	}
}

// TestGenericConditions checks that rules on generic events work as in
// Falco: contains on flags, numeric arguments, evt.buffer.
func TestGenericConditions(t *testing.T) {
	c := new(Context)
	ev := sysEv(t, "ptrace", 0, unix.PTRACE_ATTACH, 4242, 0, 0)
	c.Reset(nil, ev, 0)
	for cond, want := range map[string]bool{
		"evt.type = ptrace and evt.arg.request contains PTRACE_ATTACH": true,
		"evt.arg.request in (PTRACE_ATTACH, PTRACE_SEIZE)":             true,
		"evt.arg.pid = 4242 and evt.res = SUCCESS and evt.rawres = 0":  true,
		"evt.failed = false":         true,
		"evt.arg[1] = PTRACE_ATTACH": true,
		"fd.num exists":              false,
	} {
		if got := holds(t, c, cond); got != want {
			t.Errorf("%s = %v", cond, got)
		}
	}
	ev.Release()

	ev = withSlot(t, sysEv(t, "write", 11, 1, 0, 11), 1, "GET / HTTP/1.1", "")
	c.Reset(nil, ev, 0)
	if !holds(t, c, "evt.buffer bcontains 474554 and evt.buffer contains HTTP") {
		t.Error("evt.buffer does not match the payload")
	}
	ev.Release()
}

// TestFDFieldsFromTable checks fd.* on events that only name an fd, and
// the stdio fields, against a table built from events.
func TestFDFieldsFromTable(t *testing.T) {
	tab := family(t)
	e := env(t, tab)
	apply := func(ev *event.Event) { tab.Apply(ev); ev.Release() }
	// curl connects a socket and makes it its stdin, and writes to a file.
	apply(sysEv(t, "socket", 3, unix.AF_INET, unix.SOCK_STREAM, 0))
	con := sockEv(t, "connect", event.OpConnect, "10.0.0.5:43210", "93.184.216.34:443", 0)
	con.Timestamp = 9_000_001
	apply(con)
	d := sysEv(t, "dup2", 0, 3, 0)
	d.Timestamp = 9_000_002
	apply(d)
	o := openEv(t, "/tmp/out", unix.O_WRONLY|unix.O_CREAT, 0o644, 4)
	o.Timestamp = 9_000_003
	apply(o)

	c := new(Context)
	w := sysEv(t, "write", 100, 0, 0, 100)
	w.Timestamp = 9_000_004
	tab.Apply(w)
	c.Reset(e, w, 0)
	for tpl, want := range map[string]string{
		"%fd.num %fd.type %fd.typechar %fd.name %fd.l4proto %fd.connected %fd.sockfamily": "0 ipv4 4 10.0.0.5:43210->93.184.216.34:443 tcp true ip",
		"%fd.sip %fd.sport %fd.cip %fd.rport %evt.arg.fd":                                 "93.184.216.34 443 10.0.0.5 443 0(<4t>10.0.0.5:43210->93.184.216.34:443)",
		"%proc.stdin.type %proc.stdin.name|%proc.stdout.type %proc.stderr.name":           "ipv4 10.0.0.5:43210->93.184.216.34:443|<NA> <NA>",
		"%proc.fdopencount": "3",
	} {
		if got := render(t, c, tpl); got != want {
			t.Errorf("%s\n got %q\nwant %q", tpl, got, want)
		}
	}
	if !holds(t, c, "proc.stdin.type = ipv4 and fd.sip = 93.184.216.34 and fd.port = 43210") {
		t.Error("stdin-is-a-socket condition does not hold")
	}
	w.Release()

	// close: fd.* describe the fd the call closed.
	cl := sysEv(t, "close", 0, 4)
	cl.Timestamp = 9_000_005
	tab.Apply(cl)
	c.Reset(e, cl, 0)
	if got, want := render(t, c, "%fd.name %fd.type %fd.filename %evt.arg.fd"), "/tmp/out file out 4(<f>/tmp/out)"; got != want {
		t.Errorf("close renders %q, want %q", got, want)
	}
	p, _ := tab.Get(300)
	if _, ok := p.Files.Current().Lookup(4); ok {
		t.Error("the table kept the closed fd")
	}
	cl.Release()

	// An fd the table never saw has a number and nothing else.
	r := sysEv(t, "read", 5, 77, 0, 5)
	r.Timestamp = 9_000_006
	c.Reset(e, r, 0)
	if got, want := render(t, c, "%fd.num %fd.name %fd.type %fd.typechar %evt.arg.fd"), "77 <NA> <NA> <NA> 77"; got != want {
		t.Errorf("unknown fd renders %q, want %q", got, want)
	}
	r.Release()

	// dup's result names the same socket.
	dp := sysEv(t, "dup", 5, 0)
	dp.Timestamp = 9_000_007
	tab.Apply(dp)
	c.Reset(e, dp, 0)
	if got, want := render(t, c, "%evt.res %evt.arg.res"), "SUCCESS 5(<4t>10.0.0.5:43210->93.184.216.34:443)"; got != want {
		t.Errorf("dup renders %q, want %q", got, want)
	}
	dp.Release()
}

// TestEventFDRendersInPlace renders an event's fd argument before fd.name
// has been asked for: the argument must not be built in the arena space
// the fd.name cache then claims.
func TestEventFDRendersInPlace(t *testing.T) {
	ev := sockEv(t, "accept4", event.OpAccept, "10.0.0.5:22", "203.0.113.9:50000", 5)
	defer ev.Release()
	c := new(Context)
	for _, tpl := range []string{"%evt.arg.fd %fd.name", "%evt.args %fd.name"} {
		c.Reset(nil, ev, 0)
		want := "5(<4t>203.0.113.9:50000->10.0.0.5:22) 203.0.113.9:50000->10.0.0.5:22"
		if tpl == "%evt.args %fd.name" {
			want = "fd=5(<4t>203.0.113.9:50000->10.0.0.5:22) tuple=203.0.113.9:50000->10.0.0.5:22 203.0.113.9:50000->10.0.0.5:22"
		}
		if got := render(t, c, tpl); got != want {
			t.Errorf("%s\n got %q\nwant %q", tpl, got, want)
		}
	}
}

// TestStdioOfExec checks proc.std* on the exec event of a shell whose
// fds were set up before the exec, including what close-on-exec removed.
func TestStdioOfExec(t *testing.T) {
	tab := proc.New()
	ev := execEv(500, 1, "/usr/bin/python3", "python3")
	tab.Apply(ev)
	ev.Release()
	for _, ev := range []*event.Event{
		sysEv(t, "socket", 3, unix.AF_INET6, unix.SOCK_STREAM, 0),
		sysEv(t, "dup2", 0, 3, 0),
		withSlot(t, sysEv(t, "pipe2", 0, 0, unix.O_CLOEXEC), 0, fdPairValue(5, 6), ""),
		sysEv(t, "dup3", 2, 6, 2, unix.O_CLOEXEC),
		sysEv(t, "dup2", 1, 6, 1),
	} {
		ev.PID, ev.TID = 500, 500
		tab.Apply(ev)
		ev.Release()
	}
	sh := execEv(500, 1, "/bin/sh", "sh", "-i")
	sh.Timestamp = 10_000_000
	tab.Apply(sh)
	defer sh.Release()
	c := new(Context)
	c.Reset(&Env{Table: tab}, sh, 0)
	if got, want := render(t, c, "%proc.name %proc.stdin.type %proc.stdout.type %proc.stdout.name %proc.stderr.type %fd.num"), "sh ipv6 pipe  <NA> <NA>"; got != want {
		t.Errorf("exec renders %q, want %q", got, want)
	}
	if !holds(t, c, "evt.type = execve and proc.name = sh and proc.stdin.type in (ipv4, ipv6)") {
		t.Error("reverse shell condition does not hold")
	}
	if strings.Contains(render(t, c, "%evt.args"), "<NA>") {
		t.Error("exec args mention <NA>")
	}
}

// TestGenericContextDoesNotAllocate extends the zero-allocation goal to
// generic events, fd table lookups and symbolic rendering.
func TestGenericContextDoesNotAllocate(t *testing.T) {
	tab := family(t)
	e := env(t, tab)
	tab.Apply(sysEv(t, "socket", 3, unix.AF_INET, unix.SOCK_STREAM, 0))
	conds := []func(*Context) bool{
		condition(t, "evt.type = ptrace and evt.arg.request contains PTRACE_ATTACH"),
		condition(t, "evt.type in (write, sendto) and fd.typechar = 4 and fd.name contains 10.0"),
		condition(t, "evt.type = mount and evt.arg.flags contains MS_BIND and evt.arg.dir startswith /"),
		condition(t, "proc.stdin.type = ipv4 or proc.stdout.name contains pipe"),
		condition(t, "evt.args contains SIGKILL"),
	}
	evs := []*event.Event{
		sysEv(t, "ptrace", 0, unix.PTRACE_ATTACH, 4242, 0, 0),
		sysEv(t, "write", 10, 3, 0, 10),
		withSlot(t, sysEv(t, "mount", 0, 0, 0, 0, unix.MS_BIND, 0), 1, "/mnt", "/mnt"),
		sysEv(t, "kill", 0, 1, 9),
	}
	c := new(Context)
	for _, ev := range evs {
		run := func() {
			c.Reset(e, ev, 1)
			for _, f := range conds {
				f(c)
			}
		}
		run()
		if n := testing.AllocsPerRun(200, run); n != 0 {
			t.Errorf("%s: %.1f allocations per event", syscalls.Name(ev.Syscall), n)
		}
		ev.Release()
	}
}
