package detect

import (
	"slices"
	"testing"
)

// TestFDTableSyscalls checks that the filter gains the fd-changing calls
// exactly when a rule reads the fd table.
func TestFDTableSyscalls(t *testing.T) {
	for _, tc := range []struct {
		rules string
		want  bool
	}{
		{rule("open", "evt.type = openat and fd.name startswith /etc"), false},
		{rule("conn", "evt.type = connect and fd.sip = 10.0.0.1"), false},
		{rule("exec", "evt.type = execve and proc.name = sh"), false},
		// The exec record carries the standard fds' types and remote ends.
		{rule("shell", "evt.type = execve and proc.name = sh and proc.stdin.type = ipv4"), false},
		{rule("shellat", "evt.type in (execve, execveat) and proc.stdout.rip = 10.0.0.1 and proc.stderr.rport = 4444"), false},
		{rule("shellnet", "evt.type = execve and not proc.stdin.rnet in (127.0.0.0/8)"), false},
		{rule("readsock", "evt.type = read and proc.stdin.type = ipv4"), true},
		{rule("mixed", "evt.type in (execve, connect) and proc.stdin.type = ipv4"), true},
		{rule("notexec", "evt.type != execve and proc.stdin.type = ipv4"), true},
		{rule("untyped", "proc.stdin.type = ipv4"), true},
		{rule("execname", "evt.type = execve and proc.stdin.name contains 4444"), true},
		{"- rule: outrip\n  desc: d\n  condition: evt.type = execve\n  output: \"%proc.stdin.rip %proc.stdout.type\"\n  priority: notice\n", false},
		{rule("val", "evt.type = execve and proc.name = val(proc.stdout.name)"), true},
		{rule("write", "evt.type = write and fd.typechar = 4"), true},
		{rule("close", "evt.type = close and not evt.arg.fd contains tmp"), true},
		{rule("ptrace", "evt.type = ptrace and evt.arg.request = PTRACE_ATTACH"), false},
		// The kernel names the file behind ftruncate's and fchmod's fd.
		{rule("trunc", "evt.type = ftruncate and fd.name startswith /var/log/ and evt.arg.fd contains log"), false},
		{rule("fchmod", "evt.type in (fchmod, openat) and fd.directory = /tmp and fd.filename = x"), false},
		{rule("chmodfd", "evt.type in (fchmod, chmod) and fd.name = /tmp/x"), false},
		{rule("memfd", "evt.type = memfd_create and fd.name contains x"), true},
		{rule("truncsock", "evt.type = ftruncate and fd.typechar = f"), true},
		{rule("writename", "evt.type = write and fd.name startswith /var/log/"), true},
		{rule("dupname", "evt.type = dup2 and evt.arg.oldfd contains log"), true},
		{rule("kill", "evt.type = kill and evt.arg.sig = SIGKILL and evt.arg[1] = 9"), true},
		{"- rule: out\n  desc: d\n  condition: evt.type = execve\n  output: \"%proc.stderr.name\"\n  priority: notice\n", true},
		{"- rule: off\n  desc: d\n  condition: evt.type = execve and proc.stdin.type = ipv4\n  output: x\n  priority: notice\n  enabled: false\n", false},
	} {
		rs := loadText(t, tc.rules)
		got := slices.Contains(rs.Syscalls, "close") && slices.Contains(rs.Syscalls, "dup2") && slices.Contains(rs.Syscalls, "fcntl")
		if got != tc.want {
			t.Errorf("%s: fd calls captured = %v (%v)", tc.rules, got, rs.Syscalls)
		}
	}
}
