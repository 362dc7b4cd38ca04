package fields

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/proc"
)

// TestStdioFromExecRecord checks proc.std* on an exec whose record says
// what fds 0-2 are, with no fd table: what the default reverse-shell rule
// reads.
func TestStdioFromExecRecord(t *testing.T) {
	ev := execEv(500, 1, "/bin/sh", "sh", "-i")
	defer ev.Release()
	ev.Exec.Flags |= event.ExecStdio
	ev.Exec.Stdio = event.Stdio{
		Type:   [3]event.StdioType{event.StdioIPv4, event.StdioIPv4, event.StdioPipe},
		Addr:   [3]bool{true, true, false},
		Local:  netip.MustParseAddrPort("10.0.0.5:51000"),
		Remote: netip.MustParseAddrPort("203.0.113.7:4444"),
	}
	c := new(Context)
	c.Reset(nil, ev, 0)
	tpl := "%proc.stdin.type %proc.stdout.type %proc.stderr.type|%proc.stdin.rip %proc.stdin.rport %proc.stdout.rip|%proc.stderr.rip %proc.stderr.rport %proc.stdin.name"
	if got, want := render(t, c, tpl), "ipv4 ipv4 pipe|203.0.113.7 4444 203.0.113.7|<NA> <NA> <NA>"; got != want {
		t.Errorf("exec record renders\n got %q\nwant %q", got, want)
	}
	for cond, want := range map[string]bool{
		"proc.stdin.type in (ipv4, ipv6) and proc.stdout.type in (ipv4, ipv6)": true,
		"proc.stdout.rnet in (203.0.113.0/24) and proc.stdout.rport = 4444":    true,
		"proc.stdin.rnet in (127.0.0.0/8)":                                     false,
		"proc.stderr.type in (ipv4, ipv6)":                                     false,
	} {
		if got := holds(t, c, cond); got != want {
			t.Errorf("%s = %v, want %v", cond, got, want)
		}
	}

	// Without the flag (a synthetic exec, a process seen at start) the
	// fields have no value rather than the zero record's.
	ev.Exec.Flags &^= event.ExecStdio
	c.Reset(nil, ev, 0)
	if got, want := render(t, c, "%proc.stdin.type %proc.stdin.rip"), "<NA> <NA>"; got != want {
		t.Errorf("exec without the record renders %q, want %q", got, want)
	}
}

// TestStdioExecRecordAndTable checks which source answers when the fd
// table is kept too: the record for the types it tells and for closed
// fds, the table for the rest and for names.
func TestStdioExecRecordAndTable(t *testing.T) {
	tab := proc.New()
	ex := execEv(500, 1, "/usr/bin/python3", "python3")
	tab.Apply(ex)
	ex.Release()
	for _, ev := range []*event.Event{
		sysEv(t, "socket", 3, unix.AF_INET6, unix.SOCK_STREAM, 0),
		sysEv(t, "dup2", 0, 3, 0),
		sysEv(t, "eventfd2", 1, 0, 0),
		sysEv(t, "dup2", 2, 3, 2),
	} {
		ev.PID, ev.TID = 500, 500
		tab.Apply(ev)
		ev.Release()
	}
	sh := execEv(500, 1, "/bin/sh", "sh")
	sh.Timestamp = 10_000_000
	tab.Apply(sh)
	defer sh.Release()
	// The record: stdin another socket than the table's, stdout a kind it
	// cannot tell, stderr closed.
	sh.Exec.Flags |= event.ExecStdio
	sh.Exec.Stdio = event.Stdio{Type: [3]event.StdioType{event.StdioIPv4, event.StdioOther, event.StdioNone},
		Addr: [3]bool{true}, Remote: netip.MustParseAddrPort("192.0.2.1:80")}
	c := new(Context)
	c.Reset(&Env{Table: tab}, sh, 0)
	if got, want := render(t, c, "%proc.stdin.type %proc.stdin.rip %proc.stdout.type %proc.stderr.type"), "ipv4 192.0.2.1 event <NA>"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
