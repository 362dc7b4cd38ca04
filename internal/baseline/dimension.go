package baseline

import (
	"fmt"
	"strings"
)

// Dimension is one kind of behaviour a baseline records.
type Dimension uint8

// Dimensions. The numbers are stored; do not reorder.
const (
	DimExec       Dimension = iota // executables run, with the file's identity
	DimExecEdge                    // parent executable -> child executable
	DimFileWrite                   // files opened for writing
	DimFileRead                    // sensitive files opened for reading
	DimListen                      // listening ports
	DimOutbound                    // outbound peers (connect)
	DimInbound                     // inbound peers (accept)
	DimSyscall                     // syscalls used
	DimCapability                  // capabilities used, where inferable
	DimUser                        // user ids processes run as
	NumDimensions
)

var dimInfo = [NumDimensions]struct {
	name, rule, what string
}{
	DimExec:       {"executables", "Baseline drift: new executable", "executable"},
	DimExecEdge:   {"exec_edges", "Baseline drift: new parent process", "parent -> child program"},
	DimFileWrite:  {"files_written", "Baseline drift: new file written", "file written"},
	DimFileRead:   {"sensitive_reads", "Baseline drift: new sensitive file read", "sensitive file read"},
	DimListen:     {"listening", "Baseline drift: new listening port", "listening port"},
	DimOutbound:   {"outbound", "Baseline drift: new outbound connection", "outbound peer"},
	DimInbound:    {"inbound", "Baseline drift: new inbound connection", "inbound peer"},
	DimSyscall:    {"syscalls", "Baseline drift: new syscall", "syscall"},
	DimCapability: {"capabilities", "Baseline drift: new capability", "capability"},
	DimUser:       {"users", "Baseline drift: new user", "user id"},
}

// String returns the dimension's name as config keys, JSON and the store
// spell it.
func (d Dimension) String() string {
	if d < NumDimensions {
		return dimInfo[d].name
	}
	return fmt.Sprintf("dimension(%d)", uint8(d))
}

// Rule returns the name of the drift alert for the dimension.
func (d Dimension) Rule() string {
	if d < NumDimensions {
		return dimInfo[d].rule
	}
	return "Baseline drift"
}

// ParseDimension reads a dimension name.
func ParseDimension(s string) (Dimension, bool) {
	for d := range NumDimensions {
		if dimInfo[d].name == s {
			return d, true
		}
	}
	return 0, false
}

// Mode is what a workload's baseline does with what it sees.
type Mode uint8

// Modes.
const (
	// Learn adds everything new to the baseline.
	Learn Mode = iota
	// Monitor raises an alert for every departure and learns nothing.
	Monitor
	// Protect stops departures where a mechanism can (see docs/baselines.md)
	// and raises an alert for each.
	Protect
)

var modeNames = [...]string{"learn", "monitor", "protect"}

// String returns the mode's name.
func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// ParseMode reads a mode name, ignoring case.
func ParseMode(s string) (Mode, bool) {
	for i, n := range modeNames {
		if strings.EqualFold(n, s) {
			return Mode(i), true
		}
	}
	return 0, false
}

// Proto is a transport protocol.
type Proto uint8

// Protocols.
const (
	ProtoAny Proto = iota
	ProtoTCP
	ProtoUDP
)

var protoNames = [...]string{"any", "tcp", "udp"}

// String returns the protocol's name.
func (p Proto) String() string {
	if int(p) < len(protoNames) {
		return protoNames[p]
	}
	return "any"
}

// ParseProto reads a protocol name.
func ParseProto(s string) (Proto, bool) {
	for i, n := range protoNames {
		if n == s {
			return Proto(i), true
		}
	}
	return 0, false
}

// Item is one entry of a baseline in a form every dimension shares: the
// store keeps items, and exports are built from them. What A and B hold
// depends on the dimension:
//
//	executables      A: path or pattern      B: identity ("sha256:<hex>"; "" for any)
//	exec_edges       A: parent pattern       B: child pattern
//	files_written    A: pattern
//	sensitive_reads  A: pattern
//	listening        A: tcp|udp|any          B: port or "lo-hi"
//	outbound/inbound A: CIDR or "dns:<name>" B: "<tcp|udp|any>/<port or *>"
//	syscalls         A: syscall name
//	capabilities     A: CAP_* name
//	users            A: uid or "*"
//
// Patterns are described in docs/baselines.md (generalisation).
type Item struct {
	Dim  Dimension
	A, B string
}

// String renders the item for people.
func (it Item) String() string {
	if it.B == "" {
		return it.A
	}
	switch it.Dim {
	case DimExec:
		return it.A + " (" + it.B + ")"
	case DimExecEdge:
		return it.A + " -> " + it.B
	case DimListen:
		return it.A + "/" + it.B
	}
	return it.A + " " + it.B
}

// Less orders items by dimension, then A, then B.
func (it Item) Less(o Item) bool {
	if it.Dim != o.Dim {
		return it.Dim < o.Dim
	}
	if it.A != o.A {
		return it.A < o.A
	}
	return it.B < o.B
}
