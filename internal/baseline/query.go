package baseline

import "net/netip"

// KnownPeer reports whether workload id's baseline holds a connection to
// (outbound) or from (inbound) addr on port over proto, for views that
// mark what a baseline does not expect (the connection map). It reads
// the published baseline only: no lock, no learning. ok is false when
// the workload has no baseline or the dimension is off; m is the
// workload's mode, since a fact outside a baseline that is still
// learning is not a departure yet.
func (e *Engine) KnownPeer(id string, inbound bool, addr netip.Addr, port uint16, proto Proto) (known bool, m Mode, ok bool) {
	d := DimOutbound
	if inbound {
		d = DimInbound
	}
	p := e.lookup(id)
	if p == nil || !e.s().enabled[d] {
		return false, 0, false
	}
	v := p.view.Load()
	s := v.out
	if inbound {
		s = v.in
	}
	return s.Known(addr, port, proto, ""), p.getMode(), true
}
