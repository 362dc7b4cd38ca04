package decode

import (
	"slices"
	"testing"
	"unsafe"

	"github.com/vigilsec/vigil/internal/testutil"
)

// Go types for the wire records of bpf/vigil.h (wireEventHeader and so on),
// for this test only; they are committed, so no clang is needed to run it.
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror" -target bpfel -no-global-types -type event_header -type fork_body -type exec_body -type exit_body -type open_body -type socket_body -type syscall_body wire ../../bpf/wire.c -- -I../../bpf

// wireFields pairs every offset and width the decoder uses with the field
// of the C layout it stands for.
func wireFields() []testutil.Field {
	var (
		h  wireEventHeader
		fk wireForkBody
		x  wireExecBody
		ex wireExitBody
		o  wireOpenBody
		s  wireSocketBody
		sy wireSyscallBody
	)
	return []testutil.Field{
		{Name: "sizeof(event_header)", Off: 0, Size: headerSize, CSize: unsafe.Sizeof(h)},
		{Name: "event_header.ts_ns", Off: hdrTsNs, Size: 8, COff: unsafe.Offsetof(h.TsNs), CSize: unsafe.Sizeof(h.TsNs)},
		{Name: "event_header.cgroup_id", Off: hdrCgroupID, Size: 8, COff: unsafe.Offsetof(h.CgroupId), CSize: unsafe.Sizeof(h.CgroupId)},
		{Name: "event_header.ret", Off: hdrRet, Size: 8, COff: unsafe.Offsetof(h.Ret), CSize: unsafe.Sizeof(h.Ret)},
		{Name: "event_header.kind", Off: hdrKind, Size: 2, COff: unsafe.Offsetof(h.Kind), CSize: unsafe.Sizeof(h.Kind)},
		{Name: "event_header.size", Off: hdrSize, Size: 2, COff: unsafe.Offsetof(h.Size), CSize: unsafe.Sizeof(h.Size)},
		{Name: "event_header.syscall_nr", Off: hdrSyscallNr, Size: 4, COff: unsafe.Offsetof(h.SyscallNr), CSize: unsafe.Sizeof(h.SyscallNr)},
		{Name: "event_header.pid", Off: hdrPID, Size: 4, COff: unsafe.Offsetof(h.Pid), CSize: unsafe.Sizeof(h.Pid)},
		{Name: "event_header.tid", Off: hdrTID, Size: 4, COff: unsafe.Offsetof(h.Tid), CSize: unsafe.Sizeof(h.Tid)},
		{Name: "event_header.ppid", Off: hdrPPID, Size: 4, COff: unsafe.Offsetof(h.Ppid), CSize: unsafe.Sizeof(h.Ppid)},
		{Name: "event_header.comm", Off: hdrComm, Size: commLen, COff: unsafe.Offsetof(h.Comm), CSize: unsafe.Sizeof(h.Comm)},

		{Name: "sizeof(fork_body)", Off: 0, Size: forkSize, CSize: unsafe.Sizeof(fk)},
		{Name: "fork_body.child_pid", Off: forkChildPID, Size: 4, COff: unsafe.Offsetof(fk.ChildPid), CSize: unsafe.Sizeof(fk.ChildPid)},
		{Name: "fork_body.child_tid", Off: forkChildTID, Size: 4, COff: unsafe.Offsetof(fk.ChildTid), CSize: unsafe.Sizeof(fk.ChildTid)},
		{Name: "fork_body.flags", Off: forkFlags, Size: 4, COff: unsafe.Offsetof(fk.Flags), CSize: unsafe.Sizeof(fk.Flags)},

		{Name: "sizeof(exec_body)", Off: 0, Size: execSize, CSize: unsafe.Sizeof(x)},
		{Name: "exec_body.uid", Off: execUID, Size: 4, COff: unsafe.Offsetof(x.Uid), CSize: unsafe.Sizeof(x.Uid)},
		{Name: "exec_body.gid", Off: execGID, Size: 4, COff: unsafe.Offsetof(x.Gid), CSize: unsafe.Sizeof(x.Gid)},
		{Name: "exec_body.euid", Off: execEUID, Size: 4, COff: unsafe.Offsetof(x.Euid), CSize: unsafe.Sizeof(x.Euid)},
		{Name: "exec_body.egid", Off: execEGID, Size: 4, COff: unsafe.Offsetof(x.Egid), CSize: unsafe.Sizeof(x.Egid)},
		{Name: "exec_body.loginuid", Off: execLoginUID, Size: 4, COff: unsafe.Offsetof(x.Loginuid), CSize: unsafe.Sizeof(x.Loginuid)},
		{Name: "exec_body.tty", Off: execTTY, Size: 4, COff: unsafe.Offsetof(x.Tty), CSize: unsafe.Sizeof(x.Tty)},
		{Name: "exec_body.sid", Off: execSID, Size: 4, COff: unsafe.Offsetof(x.Sid), CSize: unsafe.Sizeof(x.Sid)},
		{Name: "exec_body.pgid", Off: execPGID, Size: 4, COff: unsafe.Offsetof(x.Pgid), CSize: unsafe.Sizeof(x.Pgid)},
		{Name: "exec_body.cap_effective", Off: execCapEffective, Size: 8, COff: unsafe.Offsetof(x.CapEffective), CSize: unsafe.Sizeof(x.CapEffective)},
		{Name: "exec_body.cap_permitted", Off: execCapPermitted, Size: 8, COff: unsafe.Offsetof(x.CapPermitted), CSize: unsafe.Sizeof(x.CapPermitted)},
		{Name: "exec_body.mnt_ns", Off: execMntNS, Size: 4, COff: unsafe.Offsetof(x.MntNs), CSize: unsafe.Sizeof(x.MntNs)},
		{Name: "exec_body.flags", Off: execFlags, Size: 4, COff: unsafe.Offsetof(x.Flags), CSize: unsafe.Sizeof(x.Flags)},
		{Name: "exec_body.stdio", Off: execStdio, Size: 3, COff: unsafe.Offsetof(x.Stdio), CSize: unsafe.Sizeof(x.Stdio)},
		{Name: "exec_body.lport", Off: execLport, Size: 2, COff: unsafe.Offsetof(x.Lport), CSize: unsafe.Sizeof(x.Lport)},
		{Name: "exec_body.rport", Off: execRport, Size: 2, COff: unsafe.Offsetof(x.Rport), CSize: unsafe.Sizeof(x.Rport)},
		{Name: "exec_body.laddr", Off: execLaddr, Size: 16, COff: unsafe.Offsetof(x.Laddr), CSize: unsafe.Sizeof(x.Laddr)},
		{Name: "exec_body.raddr", Off: execRaddr, Size: 16, COff: unsafe.Offsetof(x.Raddr), CSize: unsafe.Sizeof(x.Raddr)},

		{Name: "sizeof(exit_body)", Off: 0, Size: exitSize, CSize: unsafe.Sizeof(ex)},
		{Name: "exit_body.exit_code", Off: exitCode, Size: 4, COff: unsafe.Offsetof(ex.ExitCode), CSize: unsafe.Sizeof(ex.ExitCode)},

		{Name: "sizeof(open_body)", Off: 0, Size: openSize, CSize: unsafe.Sizeof(o)},
		{Name: "open_body.dirfd", Off: openDirfd, Size: 4, COff: unsafe.Offsetof(o.Dirfd), CSize: unsafe.Sizeof(o.Dirfd)},
		{Name: "open_body.flags", Off: openFlags, Size: 4, COff: unsafe.Offsetof(o.Flags), CSize: unsafe.Sizeof(o.Flags)},
		{Name: "open_body.mode", Off: openMode, Size: 4, COff: unsafe.Offsetof(o.Mode), CSize: unsafe.Sizeof(o.Mode)},
		{Name: "open_body.resolve", Off: openResolve, Size: 8, COff: unsafe.Offsetof(o.Resolve), CSize: unsafe.Sizeof(o.Resolve)},

		{Name: "sizeof(socket_body)", Off: 0, Size: socketSize, CSize: unsafe.Sizeof(s)},
		{Name: "socket_body.fd", Off: sockFD, Size: 4, COff: unsafe.Offsetof(s.Fd), CSize: unsafe.Sizeof(s.Fd)},
		{Name: "socket_body.family", Off: sockFamily, Size: 2, COff: unsafe.Offsetof(s.Family), CSize: unsafe.Sizeof(s.Family)},
		{Name: "socket_body.type", Off: sockType, Size: 2, COff: unsafe.Offsetof(s.Type), CSize: unsafe.Sizeof(s.Type)},
		{Name: "socket_body.protocol", Off: sockProtocol, Size: 2, COff: unsafe.Offsetof(s.Protocol), CSize: unsafe.Sizeof(s.Protocol)},
		{Name: "socket_body.lport", Off: sockLport, Size: 2, COff: unsafe.Offsetof(s.Lport), CSize: unsafe.Sizeof(s.Lport)},
		{Name: "socket_body.rport", Off: sockRport, Size: 2, COff: unsafe.Offsetof(s.Rport), CSize: unsafe.Sizeof(s.Rport)},
		{Name: "socket_body.op", Off: sockOp, Size: 2, COff: unsafe.Offsetof(s.Op), CSize: unsafe.Sizeof(s.Op)},
		{Name: "socket_body.laddr", Off: sockLaddr, Size: 16, COff: unsafe.Offsetof(s.Laddr), CSize: unsafe.Sizeof(s.Laddr)},
		{Name: "socket_body.raddr", Off: sockRaddr, Size: 16, COff: unsafe.Offsetof(s.Raddr), CSize: unsafe.Sizeof(s.Raddr)},
		{Name: "socket_body.backlog", Off: sockBacklog, Size: 4, COff: unsafe.Offsetof(s.Backlog), CSize: unsafe.Sizeof(s.Backlog)},

		{Name: "sizeof(syscall_body)", Off: 0, Size: sysSize, CSize: unsafe.Sizeof(sy)},
		{Name: "syscall_body.args", Off: sysArgs, Size: 6 * 8, COff: unsafe.Offsetof(sy.Args), CSize: unsafe.Sizeof(sy.Args)},
		{Name: "syscall_body.spec", Off: sysSpec, Size: 4, COff: unsafe.Offsetof(sy.Spec), CSize: unsafe.Sizeof(sy.Spec)},
	}
}

// TestWireLayout checks every offset and width the decoder uses against
// the C layout of bpf/vigil.h, field by field: a reordering that keeps a
// struct's size fails here.
func TestWireLayout(t *testing.T) {
	for _, m := range testutil.LayoutMismatches(wireFields()) {
		t.Error(m)
	}
}

// TestWireLayoutCatchesSwap shows the check is not vacuous: a decoder that
// read pid and tid from each other's place (same width, same struct size)
// is reported, on both fields.
func TestWireLayoutCatchesSwap(t *testing.T) {
	fields := wireFields()
	i := slices.IndexFunc(fields, func(f testutil.Field) bool { return f.Name == "event_header.pid" })
	j := slices.IndexFunc(fields, func(f testutil.Field) bool { return f.Name == "event_header.tid" })
	fields[i].Off, fields[j].Off = fields[j].Off, fields[i].Off
	got := testutil.LayoutMismatches(fields)
	want := []string{
		"event_header.pid: Go uses 4 bytes at offset 36, C has 4 bytes at offset 32",
		"event_header.tid: Go uses 4 bytes at offset 32, C has 4 bytes at offset 36",
	}
	if !slices.Equal(got, want) {
		t.Errorf("mismatches after swapping pid and tid:\n got %q\nwant %q", got, want)
	}
}
