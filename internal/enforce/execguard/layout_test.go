package execguard

import (
	"slices"
	"testing"
	"unsafe"

	"github.com/vigilsec/vigil/internal/testutil"
)

// Go types for the records of bpf/execguard.h (wireKillRecord and so on),
// for this test only; they are committed, so no clang is needed to run it.
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror" -target bpfel -no-global-types -type pending_exec -type kill_key -type kill_val -type kill_record wire ../../../bpf/wire.c -- -I../../../bpf

// wireFields pairs every offset and width the decoders (record.go,
// pending.go) and the deny-set encoder (rules.go) use with the field of
// the C layout it stands for.
func wireFields() []testutil.Field {
	var (
		r wireKillRecord
		p wirePendingExec
		k wireKillKey
		v wireKillVal
	)
	return []testutil.Field{
		{Name: "sizeof(kill_record)", Size: recordHeaderSize, CSize: unsafe.Sizeof(r)},
		{Name: "kill_record.ktime_ns", Off: recKtimeOff, Size: 8, COff: unsafe.Offsetof(r.KtimeNs), CSize: unsafe.Sizeof(r.KtimeNs)},
		{Name: "kill_record.cgroup_id", Off: recCgroupOff, Size: 8, COff: unsafe.Offsetof(r.CgroupId), CSize: unsafe.Sizeof(r.CgroupId)},
		{Name: "kill_record.dev", Off: recDevOff, Size: 8, COff: unsafe.Offsetof(r.Dev), CSize: unsafe.Sizeof(r.Dev)},
		{Name: "kill_record.ino", Off: recInoOff, Size: 8, COff: unsafe.Offsetof(r.Ino), CSize: unsafe.Sizeof(r.Ino)},
		{Name: "kill_record.pid", Off: recPIDOff, Size: 4, COff: unsafe.Offsetof(r.Pid), CSize: unsafe.Sizeof(r.Pid)},
		{Name: "kill_record.tgid", Off: recTGIDOff, Size: 4, COff: unsafe.Offsetof(r.Tgid), CSize: unsafe.Sizeof(r.Tgid)},
		{Name: "kill_record.ppid", Off: recPPIDOff, Size: 4, COff: unsafe.Offsetof(r.Ppid), CSize: unsafe.Sizeof(r.Ppid)},
		{Name: "kill_record.uid", Off: recUIDOff, Size: 4, COff: unsafe.Offsetof(r.Uid), CSize: unsafe.Sizeof(r.Uid)},
		{Name: "kill_record.euid", Off: recEUIDOff, Size: 4, COff: unsafe.Offsetof(r.Euid), CSize: unsafe.Sizeof(r.Euid)},
		{Name: "kill_record.rule_id", Off: recRuleOff, Size: 4, COff: unsafe.Offsetof(r.RuleId), CSize: unsafe.Sizeof(r.RuleId)},
		{Name: "kill_record.flags", Off: recFlagsOff, Size: 4, COff: unsafe.Offsetof(r.Flags), CSize: unsafe.Sizeof(r.Flags)},
		{Name: "kill_record.filename_len", Off: recFilenameLenOff, Size: 2, COff: unsafe.Offsetof(r.FilenameLen), CSize: unsafe.Sizeof(r.FilenameLen)},
		{Name: "kill_record.comm", Off: recCommOff, Size: commLen, COff: unsafe.Offsetof(r.Comm), CSize: unsafe.Sizeof(r.Comm)},

		{Name: "sizeof(pending_exec)", Size: pendingSize, CSize: unsafe.Sizeof(p)},
		{Name: "pending_exec.ktime_ns", Off: pendKtimeOff, Size: 8, COff: unsafe.Offsetof(p.KtimeNs), CSize: unsafe.Sizeof(p.KtimeNs)},
		{Name: "pending_exec.dirfd", Off: pendDirfdOff, Size: 4, COff: unsafe.Offsetof(p.Dirfd), CSize: unsafe.Sizeof(p.Dirfd)},
		{Name: "pending_exec.at_flags", Off: pendAtFlagsOff, Size: 4, COff: unsafe.Offsetof(p.AtFlags), CSize: unsafe.Sizeof(p.AtFlags)},
		{Name: "pending_exec.syscall_nr", Off: pendSyscallOff, Size: 4, COff: unsafe.Offsetof(p.SyscallNr), CSize: unsafe.Sizeof(p.SyscallNr)},
		{Name: "pending_exec.filename_len", Off: pendFilenameLenOff, Size: 2, COff: unsafe.Offsetof(p.FilenameLen), CSize: unsafe.Sizeof(p.FilenameLen)},
		{Name: "pending_exec.args_len", Off: pendArgsLenOff, Size: 2, COff: unsafe.Offsetof(p.ArgsLen), CSize: unsafe.Sizeof(p.ArgsLen)},
		{Name: "pending_exec.argc", Off: pendArgcOff, Size: 2, COff: unsafe.Offsetof(p.Argc), CSize: unsafe.Sizeof(p.Argc)},
		{Name: "pending_exec.flags", Off: pendFlagsOff, Size: 2, COff: unsafe.Offsetof(p.Flags), CSize: unsafe.Sizeof(p.Flags)},
		{Name: "pending_exec.filename", Off: pendingHeaderSize, Size: filenameMax, COff: unsafe.Offsetof(p.Filename), CSize: unsafe.Sizeof(p.Filename)},
		{Name: "pending_exec.args", Off: pendArgsOff, Size: argsMax, COff: unsafe.Offsetof(p.Args), CSize: unsafe.Sizeof(p.Args)},

		// bpf2go renders kill_key's union of comm and {dev, ino} as comm
		// alone; dev starts the union, and ino follows it within the size.
		{Name: "sizeof(kill_key)", Size: keySize, CSize: unsafe.Sizeof(k)},
		{Name: "kill_key.kind", Off: keyKindOff, Size: 1, COff: unsafe.Offsetof(k.Kind), CSize: unsafe.Sizeof(k.Kind)},
		{Name: "kill_key.scope", Off: keyScopeOff, Size: 1, COff: unsafe.Offsetof(k.Scope), CSize: unsafe.Sizeof(k.Scope)},
		{Name: "kill_key.cgroup_id", Off: keyCgroupOff, Size: 8, COff: unsafe.Offsetof(k.CgroupId), CSize: unsafe.Sizeof(k.CgroupId)},
		{Name: "kill_key.comm", Off: keyCommOff, Size: commMax + 1, COff: unsafe.Offsetof(k.Comm), CSize: unsafe.Sizeof(k.Comm)},
		{Name: "kill_key.dev", Off: keyDevOff, Size: 8, COff: unsafe.Offsetof(k.Comm), CSize: 8},
		{Name: "kill_key.ino", Off: keyInoOff, Size: 8, COff: unsafe.Offsetof(k.Comm) + 8, CSize: unsafe.Sizeof(k) - unsafe.Offsetof(k.Comm) - 8},

		{Name: "sizeof(kill_val)", Size: valSize, CSize: unsafe.Sizeof(v)},
		{Name: "kill_val.rule_id", Off: valRuleOff, Size: 4, COff: unsafe.Offsetof(v.RuleId), CSize: unsafe.Sizeof(v.RuleId)},
		{Name: "kill_val.flags", Off: valFlagsOff, Size: 4, COff: unsafe.Offsetof(v.Flags), CSize: unsafe.Sizeof(v.Flags)},
	}
}

// TestWireLayout checks every offset and width the Go side uses against
// the C layout of bpf/execguard.h, field by field: a reordering that keeps
// a struct's size fails here.
func TestWireLayout(t *testing.T) {
	for _, m := range testutil.LayoutMismatches(wireFields()) {
		t.Error(m)
	}
}

// TestWireLayoutCatchesSwap shows the check is not vacuous: a decoder that
// read uid and euid from each other's place is reported, on both fields.
func TestWireLayoutCatchesSwap(t *testing.T) {
	fields := wireFields()
	i := slices.IndexFunc(fields, func(f testutil.Field) bool { return f.Name == "kill_record.uid" })
	j := slices.IndexFunc(fields, func(f testutil.Field) bool { return f.Name == "kill_record.euid" })
	fields[i].Off, fields[j].Off = fields[j].Off, fields[i].Off
	if got := testutil.LayoutMismatches(fields); len(got) != 2 {
		t.Errorf("swapping uid and euid: %d mismatches %q, want 2", len(got), got)
	}
}
