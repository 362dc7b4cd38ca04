package sockguard

import (
	"slices"
	"testing"
	"unsafe"

	"github.com/vigilsec/vigil/internal/testutil"
)

// Go types for the records of bpf/sockguard.h (wireSgDecision and so on),
// for this test only; they are committed, so no clang is needed to run it.
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror" -target bpfel -no-global-types -type sg_key -type sg_value -type sg_decision wire ../../../bpf/wire.c -- -I../../../bpf

// wireFields pairs every offset and width the decision decoder
// (decision.go) and the policy encoder (policy.go) use with the field of
// the C layout it stands for.
func wireFields() []testutil.Field {
	var (
		d wireSgDecision
		k wireSgKey
		v wireSgValue
	)
	return []testutil.Field{
		{Name: "sizeof(sg_decision)", Size: decisionSize, CSize: unsafe.Sizeof(d)},
		{Name: "sg_decision.ts_ns", Off: decTimeOff, Size: 8, COff: unsafe.Offsetof(d.TsNs), CSize: unsafe.Sizeof(d.TsNs)},
		{Name: "sg_decision.cgroup_id", Off: decCgroupOff, Size: 8, COff: unsafe.Offsetof(d.CgroupId), CSize: unsafe.Sizeof(d.CgroupId)},
		{Name: "sg_decision.pid", Off: decPIDOff, Size: 4, COff: unsafe.Offsetof(d.Pid), CSize: unsafe.Sizeof(d.Pid)},
		{Name: "sg_decision.tgid", Off: decTGIDOff, Size: 4, COff: unsafe.Offsetof(d.Tgid), CSize: unsafe.Sizeof(d.Tgid)},
		{Name: "sg_decision.uid", Off: decUIDOff, Size: 4, COff: unsafe.Offsetof(d.Uid), CSize: unsafe.Sizeof(d.Uid)},
		{Name: "sg_decision.rule_id", Off: decRuleOff, Size: 4, COff: unsafe.Offsetof(d.RuleId), CSize: unsafe.Sizeof(d.RuleId)},
		{Name: "sg_decision.addr", Off: decAddrOff, Size: 16, COff: unsafe.Offsetof(d.Addr), CSize: unsafe.Sizeof(d.Addr)},
		{Name: "sg_decision.port", Off: decPortOff, Size: 2, COff: unsafe.Offsetof(d.Port), CSize: unsafe.Sizeof(d.Port)},
		{Name: "sg_decision.family", Off: decFamilyOff, Size: 1, COff: unsafe.Offsetof(d.Family), CSize: unsafe.Sizeof(d.Family)},
		{Name: "sg_decision.proto", Off: decProtoOff, Size: 1, COff: unsafe.Offsetof(d.Proto), CSize: unsafe.Sizeof(d.Proto)},
		{Name: "sg_decision.hook", Off: decHookOff, Size: 1, COff: unsafe.Offsetof(d.Hook), CSize: unsafe.Sizeof(d.Hook)},
		{Name: "sg_decision.verdict", Off: decVerdictOff, Size: 1, COff: unsafe.Offsetof(d.Verdict), CSize: unsafe.Sizeof(d.Verdict)},
		{Name: "sg_decision.comm", Off: decCommOff, Size: commLen, COff: unsafe.Offsetof(d.Comm), CSize: unsafe.Sizeof(d.Comm)},

		{Name: "sizeof(sg_key)", Size: keySize, CSize: unsafe.Sizeof(k)},
		{Name: "sg_key.prefixlen", Off: keyPrefixLenOff, Size: 4, COff: unsafe.Offsetof(k.Prefixlen), CSize: unsafe.Sizeof(k.Prefixlen)},
		{Name: "sg_key.family", Off: keyFamilyOff, Size: 1, COff: unsafe.Offsetof(k.Family), CSize: unsafe.Sizeof(k.Family)},
		{Name: "sg_key.proto", Off: keyProtoOff, Size: 1, COff: unsafe.Offsetof(k.Proto), CSize: unsafe.Sizeof(k.Proto)},
		{Name: "sg_key.port", Off: keyPortOff, Size: 2, COff: unsafe.Offsetof(k.Port), CSize: unsafe.Sizeof(k.Port)},
		{Name: "sg_key.scope", Off: keyScopeOff, Size: 8, COff: unsafe.Offsetof(k.Scope), CSize: unsafe.Sizeof(k.Scope)},
		{Name: "sg_key.addr", Off: keyAddrOff, Size: 16, COff: unsafe.Offsetof(k.Addr), CSize: unsafe.Sizeof(k.Addr)},

		// bpf2go renders sg_value's union of rule_id and summary as its
		// first member; both are a u32 at the same offset.
		{Name: "sizeof(sg_value)", Size: valueSize, CSize: unsafe.Sizeof(v)},
		{Name: "sg_value.rule_id", Off: valueRuleOff, Size: 4, COff: unsafe.Offsetof(v.RuleId), CSize: unsafe.Sizeof(v.RuleId)},
		{Name: "sg_value.rank", Off: valueRankOff, Size: 2, COff: unsafe.Offsetof(v.Rank), CSize: unsafe.Sizeof(v.Rank)},
		{Name: "sg_value.verdict", Off: valueVerdictOff, Size: 1, COff: unsafe.Offsetof(v.Verdict), CSize: unsafe.Sizeof(v.Verdict)},
	}
}

// TestWireLayout checks every offset and width the Go side uses against
// the C layout of bpf/sockguard.h, field by field: a reordering that keeps
// a struct's size fails here.
func TestWireLayout(t *testing.T) {
	for _, m := range testutil.LayoutMismatches(wireFields()) {
		t.Error(m)
	}
}

// TestWireLayoutCatchesSwap shows the check is not vacuous: a decoder that
// read the hook and the verdict from each other's place is reported, on
// both fields.
func TestWireLayoutCatchesSwap(t *testing.T) {
	fields := wireFields()
	i := slices.IndexFunc(fields, func(f testutil.Field) bool { return f.Name == "sg_decision.hook" })
	j := slices.IndexFunc(fields, func(f testutil.Field) bool { return f.Name == "sg_decision.verdict" })
	fields[i].Off, fields[j].Off = fields[j].Off, fields[i].Off
	if got := testutil.LayoutMismatches(fields); len(got) != 2 {
		t.Errorf("swapping hook and verdict: %d mismatches %q, want 2", len(got), got)
	}
}
