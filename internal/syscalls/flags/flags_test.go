package flags

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/syscalls"
)

func TestRendering(t *testing.T) {
	for _, tc := range []struct {
		table *Table
		v     uint64
		want  string
	}{
		{Open, unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC, "O_WRONLY|O_CREAT|O_TRUNC"},
		{Open, 0, "O_RDONLY"},
		{Open, unix.O_RDWR | unix.O_TMPFILE, "O_RDWR|O_TMPFILE"},
		{Open, unix.O_SYNC, "O_RDONLY|O_SYNC"},
		{Open, 0x1000000, "O_RDONLY|0x1000000"},
		{Family, unix.AF_PACKET, "AF_PACKET"},
		{Family, 0xffffffff_00000002, "AF_INET"}, // an int argument: the high half is noise
		{Family, 200, "200"},
		{SockType, unix.SOCK_STREAM | unix.SOCK_CLOEXEC, "SOCK_STREAM|SOCK_CLOEXEC"},
		{SockType, unix.SOCK_RAW | unix.SOCK_NONBLOCK, "SOCK_RAW|SOCK_NONBLOCK"},
		{SockType, 0xf, "0xf"},
		{Ptrace, unix.PTRACE_ATTACH, "PTRACE_ATTACH"},
		{Ptrace, unix.PTRACE_SEIZE, "PTRACE_SEIZE"},
		{Ptrace, unix.PTRACE_TRACEME, "PTRACE_TRACEME"},
		{Unshare, unix.CLONE_NEWNS | unix.CLONE_NEWUSER, "CLONE_NEWNS|CLONE_NEWUSER"},
		{Unshare, 0, "0"},
		{Clone, unix.CLONE_VM | unix.CLONE_VFORK | uint64(unix.SIGCHLD), "CLONE_VM|CLONE_VFORK"},
		{Clone, unix.CLONE_NEWPID | unix.CLONE_NEWNET, "CLONE_NEWPID|CLONE_NEWNET"},
		{Mount, unix.MS_NOSUID | unix.MS_BIND, "MS_NOSUID|MS_BIND"},
		{Mount, unix.MS_MGC_VAL | unix.MS_RDONLY, "MS_MGC_VAL|MS_RDONLY"},
		{Mount, unix.MS_NOUSER, "MS_NOUSER"},
		{At, unix.AT_REMOVEDIR, "AT_REMOVEDIR"},
		{Rename, unix.RENAME_NOREPLACE, "RENAME_NOREPLACE"},
		{Memfd, unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING, "MFD_CLOEXEC|MFD_ALLOW_SEALING"},
		{Prctl, unix.PR_SET_NAME, "PR_SET_NAME"},
		{Prctl, unix.PR_SET_PTRACER, "PR_SET_PTRACER"},
		{Fcntl, unix.F_DUPFD_CLOEXEC, "F_DUPFD_CLOEXEC"},
		{Signal, 9, "SIGKILL"},
		{Signal, 0, "0"},
		{Signal, 40, "40"},
		{BPF, 5, "BPF_PROG_LOAD"},
		{Umount, unix.MNT_DETACH, "MNT_DETACH"},
		{Shutdown, unix.SHUT_WR, "SHUT_WR"},
		{Pipe, unix.O_CLOEXEC | unix.O_NONBLOCK, "O_CLOEXEC|O_NONBLOCK"},
		{Dup3, unix.O_CLOEXEC, "O_CLOEXEC"},
		{Msg, unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL, "MSG_DONTWAIT|MSG_NOSIGNAL"},
		{Resolve, unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS, "RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH"},
	} {
		if got := string(tc.table.Append(nil, tc.v)); got != tc.want {
			t.Errorf("%#x: %q, want %q", tc.v, got, tc.want)
		}
	}
}

// TestTablesAreConsistent checks that no name is listed twice, that enum
// values fit their mask, and that composites come before their parts
// (otherwise the part would claim the bits first and the composite would
// never print).
func TestTablesAreConsistent(t *testing.T) {
	all := map[string]*Table{}
	for k, v := range bySyscall {
		all[k] = v
	}
	for k, v := range byName {
		all[k] = v
	}
	for _, tbl := range []*Table{Open, Resolve} {
		all[tbl.Bits[0].Name] = tbl
	}
	for key, tbl := range all {
		seen := map[string]bool{}
		for _, n := range append(append([]Name{}, tbl.Enum...), tbl.Bits...) {
			if seen[n.Name] {
				t.Errorf("%s: %s listed twice", key, n.Name)
			}
			seen[n.Name] = true
		}
		for _, n := range tbl.Enum {
			if n.Value&^tbl.EnumMask != 0 {
				t.Errorf("%s: %s = %#x outside the enum mask", key, n.Name, n.Value)
			}
		}
		for i, a := range tbl.Bits {
			for _, b := range tbl.Bits[i+1:] {
				if b.Value&a.Value == a.Value && b.Value != a.Value {
					t.Errorf("%s: %s comes after its part %s", key, b.Name, a.Name)
				}
			}
		}
	}
}

// TestEveryFlagArgumentHasATable keeps args.go in step with the syscall
// specs: an argument called flags (or another symbolic name) that renders
// as a bare number would make `contains` rules silently never match.
func TestEveryFlagArgumentHasATable(t *testing.T) {
	symbolic := map[string]bool{"flags": true, "cmd": true, "request": true, "option": true, "sig": true,
		"how": true, "domain": true, "type": true, "nstype": true, "clockid": true}
	for _, name := range syscalls.Supported() {
		spec, ok := syscalls.SpecFor(name)
		if !ok {
			continue
		}
		for _, a := range spec.Args {
			if symbolic[a.Name] && a.Slot == syscalls.SlotNone && ForArg(name, a.Name) == nil {
				t.Errorf("%s.%s has no table", name, a.Name)
			}
		}
	}
	for key := range bySyscall {
		name, arg, _ := strings.Cut(key, ".")
		spec, ok := syscalls.SpecFor(name)
		found := false
		for _, a := range spec.Args {
			found = found || a.Name == arg
		}
		if !ok || !found {
			t.Errorf("table for %s, which no spec has", key)
		}
	}
}
