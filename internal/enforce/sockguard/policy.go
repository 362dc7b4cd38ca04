package sockguard

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
)

// ScopeKind says which tasks a rule applies to.
type ScopeKind uint8

// Scope kinds. The zero value is deliberately invalid, so a rule whose scope
// was forgotten is rejected instead of silently applying to the host.
const (
	// ScopeHost covers tasks whose cgroup is not registered as a container.
	ScopeHost ScopeKind = iota + 1
	// ScopeAllContainers covers tasks in any cgroup registered with
	// SetContainer.
	ScopeAllContainers
	// ScopeCgroup covers tasks in one cgroup (one container), by cgroup id.
	// It applies whether or not that cgroup is registered.
	ScopeCgroup
)

// Scope selects the tasks a rule applies to.
type Scope struct {
	Kind ScopeKind
	// Cgroup is the cgroup v2 id for ScopeCgroup; it must be 0 otherwise.
	Cgroup uint64
}

// Host is the scope of every task outside registered containers.
func Host() Scope { return Scope{Kind: ScopeHost} }

// AllContainers is the scope of every task in a registered container.
func AllContainers() Scope { return Scope{Kind: ScopeAllContainers} }

// Cgroup is the scope of the tasks in one cgroup v2, by id.
func Cgroup(id uint64) Scope { return Scope{Kind: ScopeCgroup, Cgroup: id} }

// String returns the scope as written in messages: host, all-containers or cgroup:<id>.
func (s Scope) String() string {
	switch s.Kind {
	case ScopeHost:
		return "host"
	case ScopeAllContainers:
		return "all-containers"
	case ScopeCgroup:
		return "cgroup:" + strconv.FormatUint(s.Cgroup, 10)
	}
	return "scope(" + strconv.Itoa(int(s.Kind)) + ")"
}

// The kernel's scope keys for the two scopes that are not a cgroup id
// (SG_SCOPE_* in bpf/sockguard.h).
const (
	scopeKeyHost       = ^uint64(0)
	scopeKeyContainers = ^uint64(0) - 1
)

func (s Scope) key() uint64 {
	switch s.Kind {
	case ScopeHost:
		return scopeKeyHost
	case ScopeAllContainers:
		return scopeKeyContainers
	}
	return s.Cgroup
}

func (s Scope) validate() error {
	switch s.Kind {
	case ScopeHost, ScopeAllContainers:
		if s.Cgroup != 0 {
			return fmt.Errorf("scope %s carries cgroup id %d", s, s.Cgroup)
		}
	case ScopeCgroup:
		if s.Cgroup == 0 || s.Cgroup >= scopeKeyContainers {
			return fmt.Errorf("scope cgroup id %d is not a cgroup id", s.Cgroup)
		}
	default:
		return fmt.Errorf("scope kind %d is not host, all-containers or cgroup", s.Kind)
	}
	return nil
}

// Proto is an IP protocol number; the rules know TCP, UDP and Any.
type Proto uint8

// Protocols a rule can name.
const (
	ProtoAny Proto = 0
	ProtoTCP Proto = 6
	ProtoUDP Proto = 17
)

// String returns the protocol name, or its number when it has none here.
func (p Proto) String() string {
	switch p {
	case ProtoAny:
		return "any"
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	}
	return "proto(" + strconv.Itoa(int(p)) + ")"
}

// Verdict is what a matching rule does. The values are the kernel's
// (SG_VERDICT_* in bpf/sockguard.h); the zero value is invalid.
type Verdict uint8

// Verdicts.
const (
	// Allow lets the operation through silently, e.g. one address inside a
	// blocked network.
	Allow Verdict = 1
	// Block makes connect or sendmsg fail with EPERM and reports it.
	Block Verdict = 2
	// Audit lets the operation through and reports it ("would block").
	Audit Verdict = 3
)

// String returns the verdict in lower case.
func (v Verdict) String() string {
	switch v {
	case Allow:
		return "allow"
	case Block:
		return "block"
	case Audit:
		return "audit"
	}
	return "verdict(" + strconv.Itoa(int(v)) + ")"
}

// Rule is one entry of a policy.
//
// When several rules match an operation, the most specific wins, judged in
// this order: the longer address prefix; then an exact port over any port;
// then an exact protocol over any protocol; then a cgroup scope over the
// host or all-containers scope. A task is in exactly one of host and
// all-containers, so those two never compete. Two rules equal on all four
// counts are a conflict that Apply rejects.
//
// A rule with no prefix, port 0 and ProtoAny is therefore its scope's
// default verdict: it applies only when nothing more specific matches. A
// Block default plus Allow rules makes an allow-list. Without a default,
// whatever no rule matches is allowed.
type Rule struct {
	// ID is reported in decisions. Several rules may share an ID (one policy
	// rule compiled into many entries).
	ID    uint32
	Scope Scope
	// Prefix is the destination network. The zero Prefix matches every
	// IPv4 and IPv6 address. An IPv4-mapped IPv6 destination
	// (::ffff:a.b.c.d on an IPv6 socket) is matched as the IPv4 address it
	// maps, by IPv4 prefixes only; an IPv4-mapped prefix of length 96 or
	// more is taken as the IPv4 prefix it maps. So ::/0 means every IPv6
	// destination, and the zero Prefix every destination.
	Prefix netip.Prefix
	// Port is the destination port; 0 matches every port.
	Port    uint16
	Proto   Proto
	Verdict Verdict
}

// String returns the rule for error messages.
func (r Rule) String() string {
	pfx := "any"
	if r.Prefix != (netip.Prefix{}) {
		pfx = r.Prefix.String()
	}
	port := "any"
	if r.Port != 0 {
		port = strconv.Itoa(int(r.Port))
	}
	return fmt.Sprintf("rule %d (%s %s %s port %s %s)", r.ID, r.Verdict, r.Scope, r.Proto, port, pfx)
}

// Layouts of a policy trie key and value (struct sg_key, struct sg_value,
// checked against the C header by layout_test.go) and the key bits that
// must always match exactly.
const (
	keyPrefixLenOff = 0
	keyFamilyOff    = 4
	keyProtoOff     = 5
	keyPortOff      = 6
	keyScopeOff     = 8
	keyAddrOff      = 16 // 16 bytes; IPv4 in the first 4
	keySize         = 32

	valueRuleOff    = 0 // the rule id, or the summary bits in the summary entry
	valueRankOff    = 4
	valueVerdictOff = 6
	valueSize       = 8

	keyFixedBits = 96
	keyFullBits  = keyFixedBits + 128
	familyKeyV4  = 4
	familyKeyV6  = 6
)

// entry is one compiled trie entry.
type entry struct {
	key   [keySize]byte
	value [valueSize]byte
	rule  Rule // the rule it came from, for conflict messages
}

// compile validates rules and turns them into trie entries, one per rule,
// two for a rule that matches every address (one per family).
func compile(rules []Rule) ([]entry, error) {
	out := make([]entry, 0, len(rules))
	seen := make(map[[keySize]byte]int, len(rules))
	for _, r := range rules {
		if err := r.Scope.validate(); err != nil {
			return nil, fmt.Errorf("rule %d: %w", r.ID, err)
		}
		switch r.Proto {
		case ProtoAny, ProtoTCP, ProtoUDP:
		default:
			return nil, fmt.Errorf("rule %d: protocol %d is not tcp, udp or any", r.ID, uint8(r.Proto))
		}
		switch r.Verdict {
		case Allow, Block, Audit:
		default:
			return nil, fmt.Errorf("rule %d: verdict %d is not allow, block or audit", r.ID, uint8(r.Verdict))
		}
		prefixes, err := familyPrefixes(r.Prefix)
		if err != nil {
			return nil, fmt.Errorf("rule %d: %w", r.ID, err)
		}
		for _, p := range prefixes {
			e := makeEntry(r, p)
			if j, dup := seen[e.key]; dup {
				prev := out[j].rule
				if prev.ID == r.ID && prev.Verdict == r.Verdict {
					continue // the same rule twice
				}
				return nil, fmt.Errorf("rule %d conflicts with rule %d: both match %s port %d %s in scope %s",
					r.ID, prev.ID, p, r.Port, r.Proto, r.Scope)
			}
			seen[e.key] = len(out)
			out = append(out, e)
		}
	}
	return out, nil
}

// familyPrefixes returns the per-family prefixes a rule's Prefix stands for.
func familyPrefixes(p netip.Prefix) ([]netip.Prefix, error) {
	if p == (netip.Prefix{}) {
		return []netip.Prefix{netip.PrefixFrom(netip.IPv4Unspecified(), 0), netip.PrefixFrom(netip.IPv6Unspecified(), 0)}, nil
	}
	if !p.IsValid() {
		return nil, fmt.Errorf("prefix %s is not a valid address prefix", p)
	}
	if a := p.Addr(); a.Is4In6() {
		// The kernel looks IPv4-mapped destinations up as IPv4, so a
		// shorter prefix written in the mapped range would not do what it
		// says.
		if p.Bits() < 96 {
			return nil, fmt.Errorf("prefix %s is shorter than the IPv4-mapped range ::ffff:0:0/96: write an IPv4 prefix", p)
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return []netip.Prefix{p.Masked()}, nil
}

func makeEntry(r Rule, p netip.Prefix) entry {
	e := entry{rule: r}
	k := e.key[:]
	binary.LittleEndian.PutUint32(k[keyPrefixLenOff:], uint32(keyFixedBits+p.Bits()))
	k[keyFamilyOff] = familyKeyV6
	if p.Addr().Is4() {
		k[keyFamilyOff] = familyKeyV4
	}
	k[keyProtoOff] = uint8(r.Proto)
	binary.BigEndian.PutUint16(k[keyPortOff:], r.Port)
	binary.LittleEndian.PutUint64(k[keyScopeOff:], r.Scope.key())
	addr := p.Addr().AsSlice()
	copy(k[keyAddrOff:], addr)

	binary.LittleEndian.PutUint32(e.value[valueRuleOff:], r.ID)
	binary.LittleEndian.PutUint16(e.value[valueRankOff:], rank(p.Bits(), r))
	e.value[valueVerdictOff] = uint8(r.Verdict)
	return e
}

// summaryEntry is the trie's summary: which combinations of scope kind,
// exact or any port and exact or any protocol the entries use, so that the
// programs only look up those (SG_FAMILY_SUMMARY in bpf/sockguard.h).
func summaryEntry(entries []entry) entry {
	var bits uint32
	for _, e := range entries {
		kind := 0 // SG_KIND_CGROUP
		switch e.rule.Scope.Kind {
		case ScopeHost:
			kind = 1
		case ScopeAllContainers:
			kind = 2
		}
		bit := kind * 4
		if e.rule.Port == 0 {
			bit += 2
		}
		if e.rule.Proto == ProtoAny {
			bit++
		}
		bits |= 1 << bit
	}
	var s entry
	binary.LittleEndian.PutUint32(s.key[keyPrefixLenOff:], keyFullBits)
	binary.LittleEndian.PutUint32(s.value[valueRuleOff:], bits)
	return s
}

// rank encodes the precedence documented on Rule: prefix length, then
// exact port, then exact protocol, then cgroup scope.
func rank(bits int, r Rule) uint16 {
	n := uint16(bits) << 3
	if r.Port != 0 {
		n |= 1 << 2
	}
	if r.Proto != ProtoAny {
		n |= 1 << 1
	}
	if r.Scope.Kind == ScopeCgroup {
		n |= 1
	}
	return n
}
