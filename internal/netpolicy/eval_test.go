package netpolicy

import (
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// An evaluator of NetworkPolicy semantics, written from the API's
// documentation, to check which connections a policy set allows:
//
//   - A pod is isolated for egress (ingress) when some policy in its
//     namespace selects it and lists Egress (Ingress) in policyTypes; an
//     isolated pod's connections must match a rule of one of those
//     policies. Policies add up: any one rule suffices.
//   - A rule matches when one of its peers matches (no peers: any) and
//     one of its ports matches (no ports: any).
//   - An ipBlock peer matches addresses in its CIDR outside its excepts.
//     A podSelector peer matches pods of the policy's namespace, or of
//     the namespaces its namespaceSelector selects; a namespaceSelector
//     alone matches every pod of those namespaces.
//   - A connection is allowed when the source's egress and the
//     destination's ingress both allow it. Endpoints that are not pods
//     are never isolated.

// endpoint is a pod (pod set) or a bare address.
type endpoint struct {
	name   string
	ip     netip.Addr
	pod    bool
	ns     string
	labels map[string]string
}

func selects(sel *metav1.LabelSelector, l map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		panic(err) // a generated selector that does not parse is a bug the test must show
	}
	return s.Matches(labels.Set(l))
}

func nsLabels(ns string) map[string]string { return map[string]string{DefaultNamespaceLabel: ns} }

func peerMatches(p networkingv1.NetworkPolicyPeer, policyNS string, e endpoint) bool {
	if p.IPBlock != nil {
		cidr := netip.MustParsePrefix(p.IPBlock.CIDR)
		if !cidr.Contains(e.ip) {
			return false
		}
		for _, x := range p.IPBlock.Except {
			if netip.MustParsePrefix(x).Contains(e.ip) {
				return false
			}
		}
		return true
	}
	if !e.pod {
		return false
	}
	if p.NamespaceSelector == nil {
		if e.ns != policyNS {
			return false
		}
	} else if !selects(p.NamespaceSelector, nsLabels(e.ns)) {
		return false
	}
	return p.PodSelector == nil || selects(p.PodSelector, e.labels)
}

func portsMatch(ports []networkingv1.NetworkPolicyPort, port uint16, proto corev1.Protocol) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		pp := corev1.ProtocolTCP
		if p.Protocol != nil {
			pp = *p.Protocol
		}
		if pp != proto {
			continue
		}
		if p.Port == nil {
			return true
		}
		lo := int32(p.Port.IntValue())
		hi := lo
		if p.EndPort != nil {
			hi = *p.EndPort
		}
		if int32(port) >= lo && int32(port) <= hi {
			return true
		}
	}
	return false
}

func isolates(p *networkingv1.NetworkPolicy, e endpoint, t networkingv1.PolicyType) bool {
	return e.pod && p.Namespace == e.ns && slices.Contains(p.Spec.PolicyTypes, t) && selects(&p.Spec.PodSelector, e.labels)
}

// egressAllowed reports whether src's policies let it reach dst.
func egressAllowed(ps []networkingv1.NetworkPolicy, src, dst endpoint, port uint16, proto corev1.Protocol) bool {
	isolated := false
	for i := range ps {
		p := &ps[i]
		if !isolates(p, src, networkingv1.PolicyTypeEgress) {
			continue
		}
		isolated = true
		for _, r := range p.Spec.Egress {
			if (len(r.To) == 0 || slices.ContainsFunc(r.To, func(x networkingv1.NetworkPolicyPeer) bool { return peerMatches(x, p.Namespace, dst) })) &&
				portsMatch(r.Ports, port, proto) {
				return true
			}
		}
	}
	return !isolated
}

// ingressAllowed reports whether dst's policies let src in.
func ingressAllowed(ps []networkingv1.NetworkPolicy, src, dst endpoint, port uint16, proto corev1.Protocol) bool {
	isolated := false
	for i := range ps {
		p := &ps[i]
		if !isolates(p, dst, networkingv1.PolicyTypeIngress) {
			continue
		}
		isolated = true
		for _, r := range p.Spec.Ingress {
			if (len(r.From) == 0 || slices.ContainsFunc(r.From, func(x networkingv1.NetworkPolicyPeer) bool { return peerMatches(x, p.Namespace, src) })) &&
				portsMatch(r.Ports, port, proto) {
				return true
			}
		}
	}
	return !isolated
}

func allowed(ps []networkingv1.NetworkPolicy, src, dst endpoint, port uint16, proto corev1.Protocol) bool {
	return egressAllowed(ps, src, dst, port, proto) && ingressAllowed(ps, src, dst, port, proto)
}
