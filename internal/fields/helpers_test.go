package fields

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/rules/compile"
	"github.com/vigilsec/vigil/internal/rules/lang"
	"github.com/vigilsec/vigil/internal/syscalls"
)

var registry = New()

// render renders an output template for c, as an alert would.
func render(t testing.TB, c *Context, tpl string) string {
	t.Helper()
	out, bad, err := compile.OutputTemplate[*Context](lang.NewSource("t", tpl, 1, 1), registry)
	if err != nil || len(bad) > 0 {
		t.Fatalf("%s: %v %v", tpl, err, bad)
	}
	return string(out.Render(c, nil))
}

// holds evaluates a condition for c.
func holds(t testing.TB, c *Context, cond string) bool {
	t.Helper()
	f := condition(t, cond)
	return f(c)
}

func condition(t testing.TB, cond string) func(*Context) bool {
	t.Helper()
	e, err := lang.Parse(lang.NewSource("t", cond, 1, 1))
	if err != nil {
		t.Fatalf("%s: %v", cond, err)
	}
	f, err := compile.Condition[*Context](e, registry)
	if err != nil {
		t.Fatalf("%s: %v", cond, err)
	}
	return f
}

func nr(t testing.TB, name string) int32 {
	n, ok := syscalls.Number(name)
	if !ok {
		t.Fatalf("no syscall %s", name)
	}
	return n
}

// execEv returns a successful exec of argv by pid, child of ppid.
func execEv(pid, ppid uint32, exe string, argv ...string) *event.Event {
	ev := event.New()
	ev.Kind, ev.Syscall, ev.PID, ev.TID, ev.PPID = event.KindExec, -1, pid, pid, ppid
	ev.Timestamp = 1_000_000 + uint64(pid)
	ev.Comm = filepath.Base(exe)
	ev.Exec = event.Exec{
		Filename: exe, Exe: exe, Args: strings.Join(argv, "\x00"), Cwd: "/root",
		LoginUID: proc.NoLoginUID, SID: pid, PGID: pid,
	}
	return ev
}

// family builds a table holding systemd (1) > sshd (100) > bash (200) >
// curl (300), curl running as uid 1000 in bash's session.
func family(t testing.TB) *proc.Table {
	t.Helper()
	tab := proc.New()
	for _, ev := range []*event.Event{
		execEv(1, 0, "/usr/lib/systemd/systemd", "/sbin/init", "splash"),
		execEv(100, 1, "/usr/sbin/sshd", "sshd: root@pts/0"),
		execEv(200, 100, "/usr/bin/bash", "-bash"),
	} {
		tab.Apply(ev)
		ev.Release()
	}
	ev := curl()
	tab.Apply(ev)
	ev.Release()
	return tab
}

func curl() *event.Event {
	ev := execEv(300, 200, "/usr/bin/curl", "curl", "-s", "http://example.com/x.sh")
	ev.Exec.UID, ev.Exec.EUID, ev.Exec.GID, ev.Exec.EGID, ev.Exec.LoginUID = 1000, 1000, 1000, 1000, 1000
	ev.Exec.SID, ev.Exec.PGID, ev.Exec.TTY = 200, 300, 34816
	ev.Exec.CapEffective, ev.Exec.CapPermitted = 0, 1<<21|1<<12|1
	return ev
}

// env returns an Env over tab with users read from a temporary passwd.
func env(t testing.TB, tab *proc.Table) *Env {
	t.Helper()
	dir := t.TempDir()
	passwd := filepath.Join(dir, "passwd")
	group := filepath.Join(dir, "group")
	if err := os.WriteFile(passwd, []byte("root:x:0:0:root:/root:/bin/bash\n# comment\nbroken line\nalice:x:1000:1000::/home/alice:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(group, []byte("root:x:0:\nstaff:x:1000:alice\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &Env{Table: tab, Users: NewUsers(passwd, group), Hostname: "node-1"}
}

// openEv returns an openat by curl (pid 300).
func openEv(t testing.TB, path string, flags, mode uint32, ret int64) *event.Event {
	ev := event.New()
	ev.Kind, ev.Syscall, ev.PID, ev.TID, ev.PPID, ev.Ret = event.KindOpen, nr(t, "openat"), 300, 301, 200, ret
	ev.Timestamp = 5_000_000
	ev.Comm = "curl"
	ev.Open = event.Open{Path: path, RawPath: filepath.Base(path), DirFD: -100, Flags: flags, Mode: mode}
	return ev
}

// sockEv returns a socket event by curl.
func sockEv(t testing.TB, name string, op event.SocketOp, local, remote string, ret int64) *event.Event {
	ev := event.New()
	ev.Kind, ev.Syscall, ev.PID, ev.TID, ev.PPID, ev.Ret = event.KindSocket, nr(t, name), 300, 300, 200, ret
	ev.Comm = "curl"
	ev.Socket = event.Socket{Op: op, FD: 3, Family: unix.AF_INET, Type: unix.SOCK_STREAM, Protocol: 6}
	if local != "" {
		ev.Socket.Local = netip.MustParseAddrPort(local)
	}
	if remote != "" {
		ev.Socket.Remote = netip.MustParseAddrPort(remote)
	}
	if ev.Socket.Local.Addr().Is6() && !ev.Socket.Local.Addr().Is4In6() {
		ev.Socket.Family = unix.AF_INET6
	}
	return ev
}
