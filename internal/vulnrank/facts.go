package vulnrank

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
)

// Facts is what was running in a target when it was looked at.
type Facts struct {
	Processes []Process `json:"processes"`
	// Container describes the target container; nil for the host.
	Container *ContainerFacts `json:"container,omitempty"`
	// Errors counts what could not be read (a process that exited while
	// it was read, an unreadable maps or fd table). They are not fatal:
	// the facts are then incomplete, never wrong.
	Errors int `json:"errors"`
	// Skipped counts processes left out because a bound was reached.
	Skipped int `json:"skipped"`
}

// Process is one running process of the target.
type Process struct {
	PID  int    `json:"pid"`
	Comm string `json:"comm"`
	UID  uint32 `json:"uid"` // effective uid, as seen from the host
	// Exe is the executable, as a path inside the target.
	Exe string `json:"exe"`
	// Mapped are the other files mapped into memory (shared libraries,
	// mmapped data), as paths inside the target, without Exe.
	Mapped []string `json:"mapped,omitempty"`
	// Listeners are the sockets of the process that accept connections
	// (TCP LISTEN) or datagrams from anyone (unconnected UDP).
	Listeners []Listener `json:"listeners,omitempty"`
}

// Listener is a listening socket.
type Listener struct {
	Proto string         `json:"proto"` // tcp, tcp6, udp, udp6
	Addr  netip.AddrPort `json:"addr"`
}

// Loopback reports whether only the machine itself (or the network
// namespace) can reach the socket.
func (l Listener) Loopback() bool { return l.Addr.Addr().Unmap().IsLoopback() }

// String renders the socket as "0.0.0.0:443/tcp".
func (l Listener) String() string {
	return l.Addr.String() + "/" + strings.TrimSuffix(l.Proto, "6")
}

// ContainerFacts is the container-level part of the facts.
type ContainerFacts struct {
	ID         string   `json:"id"`
	Name       string   `json:"name,omitempty"`
	Privileged bool     `json:"privileged"`
	CapAdd     []string `json:"capAdd,omitempty"`
}

// powerful reports whether the container is privileged or was given a
// capability that amounts to it.
func (c *ContainerFacts) powerful() (bool, string) {
	if c == nil {
		return false, ""
	}
	if c.Privileged {
		return true, "the container is privileged"
	}
	for _, cp := range c.CapAdd {
		switch normalizeCap(cp) {
		case "ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_PTRACE", "DAC_READ_SEARCH":
			return true, "the container has CAP_" + normalizeCap(cp)
		}
	}
	return false, ""
}

func normalizeCap(c string) string {
	if len(c) > 4 && c[:4] == "CAP_" {
		return c[4:]
	}
	return c
}

// Source gives the runtime facts of one target. CollectProc is the /proc
// implementation; the agent can implement it from its own event stream.
type Source interface {
	Facts(ctx context.Context) (*Facts, error)
}

func (p *Process) label() string {
	comm := p.Comm
	if comm == "" {
		comm = p.Exe
	}
	return comm + " (pid " + strconv.Itoa(p.PID) + ")"
}
