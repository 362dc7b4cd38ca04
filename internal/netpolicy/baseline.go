package netpolicy

import (
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/vigilsec/vigil/internal/baseline"
	"github.com/vigilsec/vigil/internal/flows"
	"github.com/vigilsec/vigil/internal/workload"
)

// docPeer is a baseline outbound entry, parsed.
type docPeer struct {
	prefix netip.Prefix
	port   uint16
	proto  corev1.Protocol // "" for any
}

func parseDocPeers(d *baseline.Document) (out []docPeer, names []string) {
	for _, p := range d.Outbound {
		if p.DNS != "" {
			names = append(names, p.DNS)
			continue
		}
		pfx, err := netip.ParsePrefix(p.Peer)
		if err != nil {
			continue
		}
		dp := docPeer{prefix: pfx.Masked(), port: p.Port}
		switch p.Proto {
		case "tcp":
			dp.proto = corev1.ProtocolTCP
		case "udp":
			dp.proto = corev1.ProtocolUDP
		}
		out = append(out, dp)
	}
	return out, names
}

func (p docPeer) covers(a netip.Addr, port uint16, proto corev1.Protocol) bool {
	return p.prefix.Contains(a.Unmap()) && (p.port == 0 || p.port == port) && (p.proto == "" || p.proto == proto)
}

// coveredByBaseline reports whether every destination address of flow f
// is in the baseline's outbound dimension.
func coveredByBaseline(d *baseline.Document, f *flows.Flow) bool {
	peers, _ := parseDocPeers(d)
	if f.Dir != flows.Outbound || len(f.Peers) == 0 || f.Port == 0 {
		return false
	}
	for _, a := range f.Peers {
		if !slices.ContainsFunc(peers, func(p docPeer) bool { return p.covers(a, f.Port, protocol(f.Proto)) }) {
			return false
		}
	}
	return true
}

// addBaselineEgress allows what w's baseline holds. A single address
// that a flow shows to be one of a labelled workload's pods is allowed
// by the pod selector the flow already added; every other entry by its
// network.
func (g *generator) addBaselineEgress(t *target, w *workload.Workload, d *baseline.Document, snap *flows.Snapshot) {
	peers, names := parseDocPeers(d)
	for _, n := range names {
		g.note(w.ID, "baseline entry dns:%s cannot be expressed (NetworkPolicy has no host names); the addresses the baseline holds for it are allowed", n)
	}
	for _, p := range peers {
		if p.prefix.IsSingleIP() && g.podFlowCovers(w, snap, p) {
			continue
		}
		spec := portSpec{proto: p.proto, port: p.port}
		peer := ipPeer(p.prefix)
		t.egress.add(peerKeyOf(peer), peer, spec)
	}
}

// podFlowCovers reports whether an outbound flow of w to a workload whose
// pods can be selected went to the single address of p, on p's port.
func (g *generator) podFlowCovers(w *workload.Workload, snap *flows.Snapshot, p docPeer) bool {
	for i := range snap.Flows {
		f := &snap.Flows[i]
		if f.Src.ID != w.ID || f.Dir != flows.Outbound || f.Dst.Kind != flows.KindWorkload {
			continue
		}
		if _, ok := g.podPeer(f.Dst.Workload, w.Namespace); !ok {
			continue
		}
		if (p.port != 0 && p.port != f.Port) || (p.proto != "" && p.proto != protocol(f.Proto)) {
			continue
		}
		if slices.Contains(f.Peers, p.prefix.Addr()) {
			return true
		}
	}
	return false
}
