package sockguard

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
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

// decisionSize is sizeof(struct sg_decision).
const decisionSize = 72

const (
	afInet  = 2
	afInet6 = 10
)

// DecodeDecision parses one ring-buffer record into d. It rejects records of
// the wrong size and fields the kernel never writes, so a layout mismatch
// between the object and this package shows up as an error, not as garbage.
func DecodeDecision(b []byte, d *Decision) error {
	if len(b) != decisionSize {
		return fmt.Errorf("decision record is %d bytes, want %d", len(b), decisionSize)
	}
	hook := Hook(b[52])
	family := b[50]
	var dst netip.Addr
	switch {
	case (hook == HookConnect4 || hook == HookSendmsg4) && family == afInet:
		dst = netip.AddrFrom4([4]byte(b[32:36]))
	case (hook == HookConnect6 || hook == HookSendmsg6) && family == afInet6:
		dst = netip.AddrFrom16([16]byte(b[32:48]))
	default:
		return fmt.Errorf("decision record: hook %s with address family %d", hook, family)
	}
	verdict := Verdict(b[53])
	if verdict != Block && verdict != Audit {
		return fmt.Errorf("decision record: verdict %s is not block or audit", verdict)
	}
	comm := b[56:72]
	for i, c := range comm {
		if c == 0 {
			comm = comm[:i]
			break
		}
	}
	*d = Decision{
		Time:     binary.LittleEndian.Uint64(b[0:8]),
		CgroupID: binary.LittleEndian.Uint64(b[8:16]),
		PID:      binary.LittleEndian.Uint32(b[16:20]),
		TGID:     binary.LittleEndian.Uint32(b[20:24]),
		UID:      binary.LittleEndian.Uint32(b[24:28]),
		RuleID:   binary.LittleEndian.Uint32(b[28:32]),
		Dst:      netip.AddrPortFrom(dst, binary.LittleEndian.Uint16(b[48:50])),
		Proto:    Proto(b[51]),
		Hook:     hook,
		Verdict:  verdict,
		Comm:     string(comm),
	}
	return nil
}
