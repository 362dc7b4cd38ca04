package sockguard

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
)

// TestCompileRejects: every malformed rule is refused with an error that
// names it.
func TestCompileRejects(t *testing.T) {
	ok := Rule{ID: 1, Scope: Host(), Verdict: Block}
	cases := []struct {
		name  string
		rules []Rule
		want  string
	}{
		{"no scope", []Rule{{ID: 4, Verdict: Block}}, "rule 4: scope kind 0"},
		{"host with id", []Rule{{ID: 5, Scope: Scope{Kind: ScopeHost, Cgroup: 9}, Verdict: Block}}, "rule 5: scope host carries cgroup id 9"},
		{"cgroup 0", []Rule{{ID: 6, Scope: Cgroup(0), Verdict: Block}}, "rule 6: scope cgroup id 0 is not a cgroup id"},
		{"reserved cgroup", []Rule{{ID: 7, Scope: Cgroup(scopeKeyHost), Verdict: Block}}, "rule 7: scope cgroup id"},
		{"no verdict", []Rule{{ID: 8, Scope: Host()}}, "rule 8: verdict 0 is not allow, block or audit"},
		{"bad proto", []Rule{{ID: 9, Scope: Host(), Proto: 1, Verdict: Block}}, "rule 9: protocol 1 is not tcp, udp or any"},
		{"bad prefix", []Rule{{ID: 10, Scope: Host(), Prefix: netip.PrefixFrom(netip.MustParseAddr("10.0.0.0"), 33), Verdict: Block}},
			"rule 10: prefix"},
		{"partial mapped", []Rule{{ID: 11, Scope: Host(), Prefix: netip.MustParsePrefix("::ffff:0:0/80"), Verdict: Block}},
			"rule 11: prefix ::ffff:0.0.0.0/80 is shorter than the IPv4-mapped range"},
		{"conflict", []Rule{ok, {ID: 12, Scope: Host(), Prefix: netip.MustParsePrefix("0.0.0.0/0"), Verdict: Allow}},
			"rule 12 conflicts with rule 1: both match 0.0.0.0/0 port 0 any in scope host"},
		{"conflict after masking", []Rule{
			{ID: 13, Scope: Cgroup(5), Prefix: netip.MustParsePrefix("10.1.0.0/16"), Port: 80, Proto: ProtoTCP, Verdict: Block},
			{ID: 14, Scope: Cgroup(5), Prefix: netip.MustParsePrefix("10.1.2.3/16"), Port: 80, Proto: ProtoTCP, Verdict: Audit}},
			"rule 14 conflicts with rule 13: both match 10.1.0.0/16 port 80 tcp in scope cgroup:5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := compile(c.rules)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("compile error %v, want one starting %q", err, c.want)
			}
		})
	}
}

// TestCompileEntries checks the key and value bytes the kernel sees.
func TestCompileEntries(t *testing.T) {
	rules := []Rule{
		{ID: 1, Scope: Host(), Verdict: Block},
		{ID: 2, Scope: Cgroup(4242), Prefix: netip.MustParsePrefix("::ffff:10.0.0.0/104"), Port: 443, Proto: ProtoTCP, Verdict: Allow},
		{ID: 3, Scope: AllContainers(), Prefix: netip.MustParsePrefix("fd00::/8"), Proto: ProtoUDP, Verdict: Audit},
		{ID: 1, Scope: Host(), Verdict: Block}, // repeated verbatim: dropped
	}
	es, err := compile(rules)
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		prefixlen     uint32
		family, proto uint8
		port          uint16
		scope         uint64
		addr          netip.Addr
		id            uint32
		rank          uint16
		verdict       Verdict
	}
	decodeEntry := func(e entry) got {
		k, v := e.key[:], e.value[:]
		addr := netip.AddrFrom16([16]byte(k[16:32]))
		if k[4] == familyKeyV4 {
			addr = netip.AddrFrom4([4]byte(k[16:20]))
		}
		return got{binary.LittleEndian.Uint32(k), k[4], k[5], binary.BigEndian.Uint16(k[6:8]),
			binary.LittleEndian.Uint64(k[8:16]), addr,
			binary.LittleEndian.Uint32(v), binary.LittleEndian.Uint16(v[4:6]), Verdict(v[6])}
	}
	want := []got{
		{96, 4, 0, 0, scopeKeyHost, netip.IPv4Unspecified(), 1, 0, Block},
		{96, 6, 0, 0, scopeKeyHost, netip.IPv6Unspecified(), 1, 0, Block},
		{96 + 8, 4, 6, 443, 4242, netip.MustParseAddr("10.0.0.0"), 2, 8<<3 | 0b111, Allow},
		{96 + 8, 6, 17, 0, scopeKeyContainers, netip.MustParseAddr("fd00::"), 3, 8<<3 | 0b010, Audit},
	}
	if len(es) != len(want) {
		t.Fatalf("%d entries, want %d", len(es), len(want))
	}
	for i := range es {
		if g := decodeEntry(es[i]); g != want[i] {
			t.Errorf("entry %d\n got %+v\nwant %+v", i, g, want[i])
		}
	}
	// Host any/any is bit 1*4+2+1, the cgroup's exact port and protocol
	// bit 0, all-containers' any port with UDP bit 2*4+2.
	sum := summaryEntry(es)
	if g := binary.LittleEndian.Uint32(sum.value[:]); g != 1<<7|1<<0|1<<10 {
		t.Errorf("summary bits %#b, want %#b", g, 1<<7|1<<0|1<<10)
	}
	if sum.key != [keySize]byte{0: 224} {
		t.Errorf("summary key %x, want prefix length 224 and zeros", sum.key)
	}
}
