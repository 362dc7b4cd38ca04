package baseline

import (
	"net/netip"

	"github.com/vigilsec/vigil/internal/workload"
)

// The protect decisions. Pre-operation mechanisms call them synchronously
// (fanotify for exec, the cgroup connect policy for connect), so they
// read the published baseline only: no lock, no allocation, no learning.
// Outside protect mode everything is allowed: monitor alerts through
// Observe instead. Nothing is learned from a denied operation, so a
// denied exec stays denied however often it is retried.

// AllowExec reports whether workload w may execute the file with
// identity id (a content digest, see FileIdentity; "" when it could not
// be computed) at path. A path the baseline holds with other identities
// is denied: the binary was replaced. The edge from the parent is not
// part of the decision: a new parent -> child pair of known programs is
// reported by Observe, never blocked.
func (e *Engine) AllowExec(w *workload.Workload, path, id string) bool {
	p := e.protected(w)
	if p == nil || !e.s().enabled[DimExec] {
		return true
	}
	return p.view.Load().exec.Known(path, id)
}

// AllowExecWith is AllowExec for a caller that has the file but not yet
// its identity (a fanotify decision): identity is called only when the
// decision depends on it, that is when the baseline holds the path with
// identities, so most decisions read no file. An error from identity is
// returned with allowed false; the caller's fail-open or fail-closed
// policy decides.
func (e *Engine) AllowExecWith(w *workload.Workload, path string, identity func() (string, error)) (bool, error) {
	p := e.protected(w)
	if p == nil || !e.s().enabled[DimExec] {
		return true, nil
	}
	s := p.view.Load().exec
	if _, pinned := s.ids[path]; !pinned {
		return s.paths.Match(path), nil
	}
	id, err := identity()
	if err != nil {
		return false, err
	}
	return s.Known(path, id), nil
}

// AllowConnect reports whether workload w may connect to addr:port over
// proto.
func (e *Engine) AllowConnect(w *workload.Workload, addr netip.Addr, port uint16, proto Proto) bool {
	p := e.protected(w)
	if p == nil || !e.s().enabled[DimOutbound] {
		return true
	}
	return p.view.Load().out.Known(addr, port, proto, "")
}

// Protected reports whether w is in protect mode.
func (e *Engine) Protected(w *workload.Workload) bool { return e.protected(w) != nil }

func (e *Engine) protected(w *workload.Workload) *profile {
	if w == nil {
		return nil
	}
	p := e.profile(w, false)
	if p == nil || p.getMode() != Protect {
		return nil
	}
	return p
}

// Peer is one destination a workload may connect to: a network (every
// address of both families when not valid), a port (0: any) and a
// protocol.
type Peer struct {
	Prefix netip.Prefix
	Port   uint16
	Proto  Proto
}

// ConnectAllowList returns the destinations workload id may connect to,
// to compile into a kernel connect policy (an allow-list under a default
// deny for the workload's cgroups), and its mode. Names learned with DNS
// are not in it: the kernel sees addresses only, so a peer known by name
// alone is denied by the kernel policy and allowed by AllowConnect only
// when its address is known too.
func (e *Engine) ConnectAllowList(id string) ([]Peer, Mode, error) {
	p := e.lookup(id)
	if p == nil {
		return nil, 0, ErrUnknownWorkload
	}
	s := p.view.Load().out
	out := make([]Peer, 0, len(s.hosts)+len(s.nets))
	for h := range s.hosts {
		out = append(out, Peer{h.prefix, h.port, h.proto})
	}
	for _, n := range s.nets {
		out = append(out, Peer{n.prefix, n.port, n.proto})
	}
	return out, p.getMode(), nil
}
