package sockguard

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// encodeDecision lays d out as struct sg_decision does, for tests.
func encodeDecision(d Decision) []byte {
	b := make([]byte, decisionSize)
	binary.LittleEndian.PutUint64(b[0:], d.Time)
	binary.LittleEndian.PutUint64(b[8:], d.CgroupID)
	binary.LittleEndian.PutUint32(b[16:], d.PID)
	binary.LittleEndian.PutUint32(b[20:], d.TGID)
	binary.LittleEndian.PutUint32(b[24:], d.UID)
	binary.LittleEndian.PutUint32(b[28:], d.RuleID)
	a := d.Dst.Addr()
	b[50] = unix.AF_INET6
	if a.Is4() {
		b[50] = unix.AF_INET
	}
	copy(b[32:48], a.AsSlice())
	binary.LittleEndian.PutUint16(b[48:], d.Dst.Port())
	b[51] = uint8(d.Proto)
	b[52] = uint8(d.Hook)
	b[53] = uint8(d.Verdict)
	copy(b[56:72], d.Comm)
	return b
}

var sampleDecisions = []Decision{
	{Time: 123456789, PID: 41, TGID: 40, UID: 1000, Comm: "curl", CgroupID: 7,
		Hook: HookConnect4, Proto: ProtoTCP, Dst: netip.MustParseAddrPort("10.1.2.3:443"), RuleID: 5, Verdict: Block},
	{Time: 1, PID: 2, TGID: 2, Comm: "fifteen-chars-x", CgroupID: 1,
		Hook: HookConnect6, Proto: ProtoTCP, Dst: netip.MustParseAddrPort("[::ffff:127.0.0.1]:80"), RuleID: 1, Verdict: Audit},
	{Time: 9, PID: 3, TGID: 3, UID: 65534, Comm: "sixteen-chars-xx", CgroupID: ^uint64(0) - 5,
		Hook: HookSendmsg4, Proto: ProtoUDP, Dst: netip.MustParseAddrPort("127.0.0.53:53"), RuleID: 99, Verdict: Block},
	{Hook: HookSendmsg6, Proto: ProtoUDP, Dst: netip.MustParseAddrPort("[fd00::1]:5353"), Verdict: Audit},
}

func TestDecodeDecision(t *testing.T) {
	for _, want := range sampleDecisions {
		var got Decision
		if err := DecodeDecision(encodeDecision(want), &got); err != nil {
			t.Fatalf("decode %+v: %v", want, err)
		}
		if got != want {
			t.Errorf("decoded\n got %+v\nwant %+v", got, want)
		}
	}
}

func TestDecodeDecisionRejects(t *testing.T) {
	good := encodeDecision(sampleDecisions[0])
	mutate := func(f func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		f(b)
		return b
	}
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"short", good[:71], "decision record is 71 bytes, want 72"},
		{"long", append(append([]byte(nil), good...), 0), "decision record is 73 bytes, want 72"},
		{"unknown hook", mutate(func(b []byte) { b[52] = 9 }), "decision record: hook hook(9) with address family 2"},
		{"family mismatch", mutate(func(b []byte) { b[50] = unix.AF_INET6 }), "decision record: hook connect4 with address family 10"},
		{"allow verdict", mutate(func(b []byte) { b[53] = uint8(Allow) }), "decision record: verdict allow is not block or audit"},
		{"zero verdict", mutate(func(b []byte) { b[53] = 0 }), "decision record: verdict verdict(0) is not block or audit"},
	}
	for _, c := range cases {
		var d Decision
		err := DecodeDecision(c.b, &d)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

// FuzzDecodeDecision: any bytes either fail cleanly or decode to a record
// that encodes back to the same fields.
func FuzzDecodeDecision(f *testing.F) {
	for _, d := range sampleDecisions {
		f.Add(encodeDecision(d))
	}
	f.Add(make([]byte, decisionSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Decision
		if err := DecodeDecision(b, &d); err != nil {
			return
		}
		var again Decision
		if err := DecodeDecision(encodeDecision(d), &again); err != nil {
			t.Fatalf("re-decode of %+v: %v", d, err)
		}
		if again != d {
			t.Fatalf("round trip\n got %+v\nwant %+v", again, d)
		}
		if strings.IndexByte(d.Comm, 0) >= 0 || len(d.Comm) > 16 {
			t.Fatalf("comm %q keeps a NUL or overruns", d.Comm)
		}
	})
}
