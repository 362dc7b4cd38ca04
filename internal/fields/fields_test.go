package fields

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/rules/compile"
	"github.com/vigilsec/vigil/internal/rules/lang"
)

func TestOpenFields(t *testing.T) {
	tab := family(t)
	ev := openEv(t, "/home/alice/.bash_history", 0x1|0x40|0x200|0x80000, 0o644, 3)
	defer ev.Release()
	c := new(Context)
	c.Reset(env(t, tab), ev, 7)
	for tpl, want := range map[string]string{
		"%evt.type %evt.dir %evt.num %evt.res %evt.rawres %evt.failed": "openat < 7 SUCCESS 3 false",
		"%evt.is_open_read %evt.is_open_write %evt.is_open_exec":       "false true false",
		"%evt.arg.flags": "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC",
		"%evt.arg.name %evt.arg.path %evt.arg.mode %evt.arg.dirfd": ".bash_history .bash_history 0644 -100(AT_FDCWD)",
		"%evt.arg[0] | %evt.arg[2] | %evt.arg[9]":                  "3(<f>/home/alice/.bash_history) | .bash_history | <NA>",
		"%evt.args": "fd=3(<f>/home/alice/.bash_history) dirfd=-100(AT_FDCWD) name=.bash_history flags=524865(O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC) mode=0644",
		"%fd.name %fd.nameraw %fd.directory %fd.filename %fd.num": "/home/alice/.bash_history .bash_history /home/alice .bash_history 3",
		"%fd.typechar %fd.type %fd.sip %fd.l4proto %fd.connected": "f file <NA> <NA> <NA>",
		"%evt.arg.tuple %evt.arg.exe %evt.hostname":               "<NA> <NA> node-1",
		"%thread.tid %proc.pid %proc.name":                        "301 300 curl",
	} {
		if got := render(t, c, tpl); got != want {
			t.Errorf("%s\n got %q\nwant %q", tpl, got, want)
		}
	}
	if !holds(t, c, "evt.arg.flags contains O_TRUNC and fd.name glob '/home/*/.bash_history' and fd.directory pmatch (/home)") {
		t.Error("flags/glob/pmatch condition does not hold")
	}
}

func TestOpenEdgeCases(t *testing.T) {
	c := new(Context)
	for _, tc := range []struct {
		path        string
		flags, mode uint32
		ret         int64
		tpl, want   string
	}{
		{"/nope", 0, 0, -2, "%evt.res %evt.rawres %evt.failed %fd.num %evt.arg.fd %fd.name", "ENOENT -2 true <NA> -2(ENOENT) /nope"},
		{"/tmp/x", 0x2 | 0x40, 0o755, 4, "%evt.is_open_read %evt.is_open_write %evt.is_open_exec %evt.arg.flags", "true true true O_RDWR|O_CREAT"},
		{"/tmp", 0x410002, 0o700, 4, "%evt.arg.flags %fd.typechar %evt.is_open_exec", "O_RDWR|O_TMPFILE f true"},
		{"/etc", 0x10000 | 0x8000, 0, 4, "%evt.arg.flags %fd.typechar %fd.type %fd.directory %fd.filename", "O_RDONLY|O_LARGEFILE|O_DIRECTORY d directory / etc"},
		{"/", 0x1000000, 0, 4, "%evt.arg.flags %fd.directory %fd.filename", "O_RDONLY|0x1000000 / "},
		{"/x", 0, 0, -4095, "%evt.res", "-4095"},
	} {
		ev := openEv(t, tc.path, tc.flags, tc.mode, tc.ret)
		c.Reset(nil, ev, 0)
		if got := render(t, c, tc.tpl); got != tc.want {
			t.Errorf("%s on %s\n got %q\nwant %q", tc.tpl, tc.path, got, tc.want)
		}
		ev.Release()
	}
}

func TestProcFields(t *testing.T) {
	tab := family(t)
	ev := curl() // the table applied it already; the pipeline does the same
	defer ev.Release()
	c := new(Context)
	c.Reset(env(t, tab), ev, 1)
	for tpl, want := range map[string]string{
		"%proc.pid %proc.ppid %proc.name %proc.exe %proc.exepath":              "300 200 curl curl /usr/bin/curl",
		"%proc.cmdline|%proc.args|%proc.exeline":                               "curl -s http://example.com/x.sh|-s http://example.com/x.sh|curl -s http://example.com/x.sh",
		"%proc.cwd %proc.tty %proc.sid %proc.vpgid %proc.sname":                "/root 34816 200 300 bash",
		"%proc.is_vpgid_leader %proc.is_sid_leader":                            "true false",
		"%proc.pname %proc.pexe %proc.pexepath|%proc.pcmdline":                 "bash -bash /usr/bin/bash|bash",
		"%proc.aname[0] %proc.aname[1] %proc.aname[2] %proc.aname[3]":          "curl bash sshd systemd",
		"%proc.aname[4] %proc.apid[2] %proc.aexe[3] %proc.aexepath[2]":         "<NA> 100 /sbin/init /usr/sbin/sshd",
		"%proc.acmdline[3]|%proc.acmdline[0]|%proc.aname|%proc.apid":           "systemd splash|curl -s http://example.com/x.sh|bash|200",
		"%proc.is_exe_from_memfd %proc.is_exe_upper_layer":                     "false false",
		"%user.uid %user.name %user.loginuid %user.loginname":                  "1000 alice 1000 alice",
		"%group.gid %group.name":                                               "1000 staff",
		"%thread.cap_effective|%thread.cap_permitted":                          "|CAP_CHOWN CAP_NET_ADMIN CAP_SYS_ADMIN",
		"%container.id %container.name %container.image.repository":            "host host <NA>",
		"%k8s.pod.name %k8s.ns.name %k8s.pod.label[app] %container.privileged": "<NA> <NA> <NA> <NA>",
		"%evt.type %evt.res %evt.arg.exe %evt.arg.args %evt.arg.filename":      "execve SUCCESS curl -s http://example.com/x.sh /usr/bin/curl",
		"%proc.duration": "<NA>", // an exec-created entry has no start time
	} {
		if got := render(t, c, tpl); got != want {
			t.Errorf("%s\n got %q\nwant %q", tpl, got, want)
		}
	}
	for cond, want := range map[string]bool{
		"proc.aname = sshd":                          true,
		"proc.aname = curl":                          false, // ancestors only, as in Falco
		"proc.aname in (cron, systemd)":              true,
		"proc.apid = 1":                              true,
		"proc.aexepath endswith sshd":                true,
		"proc.acmdline contains splash":              true,
		"not proc.aname = sshd":                      false,
		"proc.aname[2] = sshd and proc.pname = bash": true,
		"proc.name = val(proc.aname[0])":             true,
		"proc.pname = val(proc.aname[1])":            true,
		"container.id = host":                        true,
		"container.image.repository = nginx":         false,
		"not container.image.repository in (nginx)":  true,
		"user.loginuid >= 1000":                      true,
	} {
		if got := holds(t, c, cond); got != want {
			t.Errorf("%s = %v, want %v", cond, got, want)
		}
	}
}

func TestProcessNotInTable(t *testing.T) {
	// A process the table does not know: an exec describes itself, anything
	// else has only its name, and its parent's ancestry still counts.
	tab := family(t)
	c := new(Context)
	ev := openEv(t, "/etc/hosts", 0, 0, 3)
	ev.PID, ev.PPID, ev.Comm = 999, 200, "ghost"
	c.Reset(&Env{Table: tab}, ev, 0)
	if got, want := render(t, c, "%proc.name %proc.exepath %proc.cmdline %proc.pname %proc.aname[2] %user.uid"), "ghost <NA> ghost bash sshd <NA>"; got != want {
		t.Errorf("unknown process renders %q, want %q", got, want)
	}
	if !holds(t, c, "proc.aname = systemd") {
		t.Error("ancestry through a known parent is lost")
	}
	ev.Release()

	ev = execEv(999, 0, "/tmp/x", "x", "-v")
	ev.Exec.Flags = event.ExecFromMemfd
	c.Reset(nil, ev, 0)
	if got, want := render(t, c, "%proc.exepath %proc.cmdline %proc.pname %proc.is_exe_from_memfd"), "/tmp/x x -v <NA> true"; got != want {
		t.Errorf("exec without a table renders %q, want %q", got, want)
	}
	ev.Release()
}

func TestSocketFields(t *testing.T) {
	c := new(Context)
	for _, tc := range []struct {
		name          string
		op            event.SocketOp
		local, remote string
		ret           int64
		tpl, want     string
	}{
		{"connect", event.OpConnect, "10.0.0.5:43210", "93.184.216.34:443", 0,
			"%fd.name|%fd.cip:%fd.cport %fd.sip:%fd.sport|%fd.lip %fd.rip %fd.lport %fd.rport|%fd.ip %fd.port",
			"10.0.0.5:43210->93.184.216.34:443|10.0.0.5:43210 93.184.216.34:443|10.0.0.5 93.184.216.34 43210 443|93.184.216.34 443"},
		{"connect", event.OpConnect, "10.0.0.5:43210", "93.184.216.34:443", -111,
			"%evt.res %fd.connected %evt.arg.res %evt.arg.addr %fd.num %fd.typechar %fd.type %fd.l4proto %fd.sockfamily",
			"ECONNREFUSED false -111(ECONNREFUSED) 93.184.216.34:443 3 4 ipv4 tcp ip"},
		{"accept4", event.OpAccept, "10.0.0.5:22", "203.0.113.9:50000", 5,
			"%evt.type %fd.name|%fd.sip:%fd.sport %fd.cip:%fd.cport|%fd.num %fd.connected|%evt.args",
			"accept4 203.0.113.9:50000->10.0.0.5:22|10.0.0.5:22 203.0.113.9:50000|5 true|fd=5(<4t>203.0.113.9:50000->10.0.0.5:22) tuple=203.0.113.9:50000->10.0.0.5:22"},
		{"bind", event.OpBind, "0.0.0.0:8080", "", 0,
			"%fd.name %fd.sport %fd.cip %fd.rip %evt.arg.addr %fd.connected",
			"0.0.0.0:8080 8080 <NA> <NA> 0.0.0.0:8080 false"},
		{"connect", event.OpConnect, "[::1]:40000", "[::1]:8080", 0,
			"%fd.name %fd.typechar %fd.type %fd.rip", "::1:40000->::1:8080 6 ipv6 ::1"},
	} {
		ev := sockEv(t, tc.name, tc.op, tc.local, tc.remote, tc.ret)
		c.Reset(nil, ev, 0)
		if got := render(t, c, tc.tpl); got != tc.want {
			t.Errorf("%s %s->%s\n got %q\nwant %q", tc.name, tc.local, tc.remote, got, tc.want)
		}
		ev.Release()
	}

	ev := sockEv(t, "connect", event.OpConnect, "10.0.0.5:43210", "93.184.216.34:443", 0)
	defer ev.Release()
	c.Reset(nil, ev, 0)
	for cond, want := range map[string]bool{
		"fd.ip = 10.0.0.5":                           true, // either end, as in Falco
		"fd.ip = 93.184.216.34":                      true,
		"fd.port = 43210 and fd.port = 443":          true,
		"fd.net in (10.0.0.0/8)":                     true,
		"fd.snet in (10.0.0.0/8, 192.168.0.0/16)":    false,
		"fd.cnet = 10.0.0.0/8":                       true,
		"fd.rnet in (93.184.0.0/16)":                 true,
		"fd.sport in (80, 443) and fd.l4proto = tcp": true,
		"fd.lip = 93.184.216.34":                     false,
	} {
		if got := holds(t, c, cond); got != want {
			t.Errorf("%s = %v, want %v", cond, got, want)
		}
	}
}

func TestUnixSocket(t *testing.T) {
	ev := sockEv(t, "connect", event.OpConnect, "", "", 0)
	defer ev.Release()
	ev.Socket.Family, ev.Socket.RemotePath = unix.AF_UNIX, "/run/docker.sock"
	c := new(Context)
	c.Reset(nil, ev, 0)
	if got, want := render(t, c, "%fd.name %fd.typechar %fd.sockfamily %fd.l4proto %fd.sip %evt.arg.tuple"), "/run/docker.sock u unix <NA> <NA> /run/docker.sock"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestForkAndExit(t *testing.T) {
	tab := family(t)
	c := new(Context)
	ev := event.New()
	ev.Kind, ev.Syscall, ev.PID, ev.TID, ev.PPID, ev.Comm = event.KindFork, -1, 200, 200, 100, "bash"
	ev.Fork = event.Fork{ChildPID: 400, ChildTID: 400}
	c.Reset(&Env{Table: tab}, ev, 0)
	if got, want := render(t, c, "%evt.type %evt.res %evt.rawres %proc.name %proc.pname %evt.args"), "procfork <NA> <NA> bash sshd res=400"; got != want {
		t.Errorf("fork renders %q, want %q", got, want)
	}
	ev.Release()

	ev = event.New()
	ev.Kind, ev.Syscall, ev.PID, ev.TID, ev.Comm = event.KindExit, -1, 500, 500, "gone"
	ev.Exit = event.Exit{Code: 1, Signal: 9}
	c.Reset(&Env{Table: tab}, ev, 0)
	if got, want := render(t, c, "%evt.type %proc.name %evt.arg.sig %evt.args"), "procexit gone 9 status=1 sig=9 core=false"; got != want {
		t.Errorf("exit renders %q, want %q", got, want)
	}
	ev.Release()
}

func TestLookupErrors(t *testing.T) {
	_, err := registry.Lookup("proc.nosuchfield", nil)
	var ue *compile.UnknownFieldError
	if !errors.As(err, &ue) || !errors.Is(err, compile.ErrUnknownField) {
		t.Errorf("unknown field gives %v", err)
	}
	for _, tc := range []struct {
		name, arg, want string
	}{
		{"proc.name", "1", "field proc.name takes no argument"},
		{"k8s.pod.label", "", "field k8s.pod.label needs an argument, as in k8s.pod.label[...]"},
		{"proc.aname", "x", `proc.aname needs a number in brackets, as in proc.aname[1], not "x"`},
		{"evt.arg", "-1", `evt.arg needs a number in brackets, as in evt.arg[1], not "-1"`},
	} {
		var arg *lang.Arg
		if tc.arg != "" || tc.name == "proc.name" {
			arg = &lang.Arg{Text: tc.arg}
		}
		_, err := registry.Lookup(tc.name, arg)
		if err == nil || err.Error() != tc.want || errors.Is(err, compile.ErrUnknownField) {
			t.Errorf("Lookup(%s[%s]) = %v, want %q", tc.name, tc.arg, err, tc.want)
		}
	}
	if len(registry.dups) > 0 {
		t.Errorf("registered twice: %v", registry.dups)
	}
	for _, f := range registry.Fields() {
		if f.Desc == "" || f.Type == compile.TypeInvalid {
			t.Errorf("%s lacks a description or type", f.Name)
		}
	}
}
