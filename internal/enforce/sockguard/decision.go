package sockguard

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"
)

// Hook is the kernel hook that made a decision (SG_HOOK_* in
// bpf/sockguard.h).
type Hook uint8

// Hooks.
const (
	HookConnect4 Hook = 1
	HookConnect6 Hook = 2
	HookSendmsg4 Hook = 3 // unconnected UDP sendto/sendmsg, IPv4 socket
	HookSendmsg6 Hook = 4 // unconnected UDP sendto/sendmsg, IPv6 socket
)

// String returns the hook name without its "cgroup/" prefix.
func (h Hook) String() string {
	switch h {
	case HookConnect4:
		return "connect4"
	case HookConnect6:
		return "connect6"
	case HookSendmsg4:
		return "sendmsg4"
	case HookSendmsg6:
		return "sendmsg6"
	}
	return "hook(" + strconv.Itoa(int(h)) + ")"
}

// Decision is one Block or Audit decision made in the kernel.
type Decision struct {
	// Time is CLOCK_MONOTONIC in nanoseconds (bpf_ktime_get_ns).
	Time     uint64
	PID      uint32 // thread id
	TGID     uint32 // process id
	UID      uint32
	Comm     string
	CgroupID uint64
	Hook     Hook
	// Proto is the socket's IP protocol number (TCP or UDP, or e.g. ICMP
	// for a ping socket's connect).
	Proto Proto
	// Dst is the destination as the caller gave it: a 4-byte address on an
	// AF_INET socket, a 16-byte one on AF_INET6, so an IPv4-mapped address
	// stays mapped (Dst.Addr().Unmap() gives the IPv4 address).
	Dst     netip.AddrPort
	RuleID  uint32
	Verdict Verdict // Block or Audit
}

// Layout of struct sg_decision in bpf/sockguard.h (checked against the C
// header by layout_test.go).
const (
	decTimeOff    = 0
	decCgroupOff  = 8
	decPIDOff     = 16
	decTGIDOff    = 20
	decUIDOff     = 24
	decRuleOff    = 28
	decAddrOff    = 32 // 16 bytes; IPv4 in the first 4
	decPortOff    = 48
	decFamilyOff  = 50
	decProtoOff   = 51
	decHookOff    = 52
	decVerdictOff = 53
	decCommOff    = 56
	commLen       = 16 // TASK_COMM_LEN
	decisionSize  = 72
)

// DecodeDecision parses one ring-buffer record into d. It rejects records of
// the wrong size and fields the kernel never writes, so a layout mismatch
// between the object and this package shows up as an error, not as garbage.
func DecodeDecision(b []byte, d *Decision) error {
	if len(b) != decisionSize {
		return fmt.Errorf("decision record is %d bytes, want %d", len(b), decisionSize)
	}
	hook := Hook(b[decHookOff])
	family := b[decFamilyOff]
	var dst netip.Addr
	switch {
	case (hook == HookConnect4 || hook == HookSendmsg4) && family == unix.AF_INET:
		dst = netip.AddrFrom4([4]byte(b[decAddrOff:]))
	case (hook == HookConnect6 || hook == HookSendmsg6) && family == unix.AF_INET6:
		dst = netip.AddrFrom16([16]byte(b[decAddrOff:]))
	default:
		return fmt.Errorf("decision record: hook %s with address family %d", hook, family)
	}
	verdict := Verdict(b[decVerdictOff])
	if verdict != Block && verdict != Audit {
		return fmt.Errorf("decision record: verdict %s is not block or audit", verdict)
	}
	comm := b[decCommOff : decCommOff+commLen]
	for i, c := range comm {
		if c == 0 {
			comm = comm[:i]
			break
		}
	}
	*d = Decision{
		Time:     binary.LittleEndian.Uint64(b[decTimeOff:]),
		CgroupID: binary.LittleEndian.Uint64(b[decCgroupOff:]),
		PID:      binary.LittleEndian.Uint32(b[decPIDOff:]),
		TGID:     binary.LittleEndian.Uint32(b[decTGIDOff:]),
		UID:      binary.LittleEndian.Uint32(b[decUIDOff:]),
		RuleID:   binary.LittleEndian.Uint32(b[decRuleOff:]),
		Dst:      netip.AddrPortFrom(dst, binary.LittleEndian.Uint16(b[decPortOff:])),
		Proto:    Proto(b[decProtoOff]),
		Hook:     hook,
		Verdict:  verdict,
		Comm:     string(comm),
	}
	return nil
}
