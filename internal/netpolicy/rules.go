package netpolicy

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/vigilsec/vigil/internal/flows"
	"github.com/vigilsec/vigil/internal/workload"
)

var sprintf = fmt.Sprintf

// portSpec is one allowed port: a protocol ("" for both) and a port (0
// for every port).
type portSpec struct {
	proto corev1.Protocol
	port  uint16
}

// ruleSet collects, for one direction of one policy, which ports each
// peer is allowed on. Rules are built from it so that each rule's peers
// times its ports is exactly a subset of what was collected.
type ruleSet struct {
	peers map[string]networkingv1.NetworkPolicyPeer
	ports map[string]map[portSpec]bool
}

func newRuleSet() *ruleSet {
	return &ruleSet{peers: map[string]networkingv1.NetworkPolicyPeer{}, ports: map[string]map[portSpec]bool{}}
}

func (r *ruleSet) add(key string, p networkingv1.NetworkPolicyPeer, ps ...portSpec) {
	r.peers[key] = p
	if r.ports[key] == nil {
		r.ports[key] = map[portSpec]bool{}
	}
	for _, s := range ps {
		r.ports[key][s] = true
	}
}

// rule is one ingress or egress rule: every peer on every port.
type rule struct {
	peers []networkingv1.NetworkPolicyPeer
	ports []networkingv1.NetworkPolicyPort
}

// rules groups the peers that share a set of ports into one rule each.
func (r *ruleSet) rules() (out []rule) {
	groups := map[string][]string{}
	for key, ps := range r.ports {
		sig := signature(ps)
		groups[sig] = append(groups[sig], key)
	}
	for _, sig := range slices.Sorted(maps.Keys(groups)) {
		keys := groups[sig]
		slices.Sort(keys)
		var ru rule
		for _, k := range keys {
			ru.peers = append(ru.peers, r.peers[k])
		}
		ru.ports = policyPorts(r.ports[keys[0]])
		out = append(out, ru)
	}
	slices.SortStableFunc(out, func(a, b rule) int {
		return cmp.Compare(peerKeyOf(a.peers[0]), peerKeyOf(b.peers[0]))
	})
	return out
}

func sortedSpecs(ps map[portSpec]bool) []portSpec {
	out := slices.Collect(maps.Keys(ps))
	slices.SortFunc(out, func(a, b portSpec) int {
		return cmp.Or(cmp.Compare(a.proto, b.proto), cmp.Compare(a.port, b.port))
	})
	return out
}

func signature(ps map[portSpec]bool) string {
	var b strings.Builder
	for _, s := range sortedSpecs(ps) {
		b.WriteString(string(s.proto) + "/" + strconv.Itoa(int(s.port)) + ",")
	}
	return b.String()
}

// policyPorts renders a port set; nil allows every port of every
// protocol.
func policyPorts(ps map[portSpec]bool) []networkingv1.NetworkPolicyPort {
	if ps[portSpec{}] {
		return nil
	}
	var out []networkingv1.NetworkPolicyPort
	for _, s := range sortedSpecs(ps) {
		protos := []corev1.Protocol{s.proto}
		if s.proto == "" {
			protos = []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP}
		}
		for _, p := range protos {
			np := networkingv1.NetworkPolicyPort{Protocol: &p}
			if s.port != 0 {
				v := intstr.FromInt32(int32(s.port))
				np.Port = &v
			}
			out = append(out, np)
		}
	}
	return out
}

func peerKeyOf(p networkingv1.NetworkPolicyPeer) string {
	if p.IPBlock != nil {
		return "ip:" + p.IPBlock.CIDR
	}
	var ns string
	if p.NamespaceSelector != nil {
		ns = labelString(p.NamespaceSelector.MatchLabels)
	}
	return "pod:" + ns + ":" + labelString(p.PodSelector.MatchLabels)
}

func labelString(l map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, k+"="+l[k])
	}
	return strings.Join(parts, ",")
}

func protocol(p flows.Proto) corev1.Protocol {
	if p == flows.UDP {
		return corev1.ProtocolUDP
	}
	return corev1.ProtocolTCP
}

func portName(port uint16, p flows.Proto) string {
	if port == 0 {
		return "*/" + p.String()
	}
	return strconv.Itoa(int(port)) + "/" + p.String()
}

// podPeer selects the pods of w, in their namespace when it differs from
// the policy's.
func (g *generator) podPeer(w *workload.Workload, policyNS string) (networkingv1.NetworkPolicyPeer, bool) {
	if w.Kind != workload.KindK8s {
		return networkingv1.NetworkPolicyPeer{}, false
	}
	labels, ok := g.labels(w)
	if !ok {
		return networkingv1.NetworkPolicyPeer{}, false
	}
	p := networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: labels}}
	if w.Namespace != policyNS {
		p.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{g.opts.NamespaceLabel: w.Namespace}}
	}
	return p, true
}

func ipPeer(p netip.Prefix) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: p.Masked().String()}}
}

// peers returns the peers that stand for endpoint e of flow f: its pods,
// or the addresses it used (addrs). It is empty, with a note, when e
// cannot be expressed.
func (g *generator) peers(t *target, e *flows.Endpoint, addrs []netip.Addr, f *flows.Flow) []networkingv1.NetworkPolicyPeer {
	if e.Kind == flows.KindWorkload {
		if p, ok := g.podPeer(e.Workload, t.ns); ok {
			return []networkingv1.NetworkPolicyPeer{p}
		}
	}
	switch {
	case e.Kind == flows.KindUnknown:
		return nil // loopback: inside the pod, where policies do not apply
	case e.ID == "net:any":
		g.note(t.workloads[0].ID, "a scan of many addresses on port %s is not allowed", portName(f.Port, f.Proto))
		return nil
	case e.NameKind == "service":
		g.note(t.workloads[0].ID, "%s is a Service's cluster IP: most network plugins apply policies after it is translated to a pod's address, so allow the Service's pods instead of the ipBlock where the map shows them", e.ID)
	}
	var out []networkingv1.NetworkPolicyPeer
	for _, a := range addrs {
		if a.IsLoopback() || a.IsUnspecified() {
			continue
		}
		out = append(out, ipPeer(netip.PrefixFrom(a, a.BitLen())))
	}
	if f.MorePeers > 0 && e.Network.IsValid() {
		out = []networkingv1.NetworkPolicyPeer{ipPeer(e.Network)}
		g.note(t.workloads[0].ID, "%s has more addresses than the map keeps: allowed as the network %s", e.ID, e.Network)
	}
	if len(out) == 0 {
		g.note(t.workloads[0].ID, "%s has no known address and no pod labels: not allowed", e.ID)
	}
	return out
}

// srcAddrs and dstAddrs are the addresses a flow's ends used: the
// observed peer's are in the flow, the observing end's are the ones its
// workload was seen using.
func (g *generator) srcAddrs(f *flows.Flow) []netip.Addr {
	if f.Dir == flows.Inbound {
		return f.Peers
	}
	return g.opts.Addresses[f.Src.ID]
}

func (g *generator) dstAddrs(f *flows.Flow) []netip.Addr {
	if f.Dir == flows.Outbound {
		return f.Peers
	}
	return g.opts.Addresses[f.Dst.ID]
}

func (g *generator) addIngress(t *target, f *flows.Flow) {
	if f.Port == 0 {
		g.note(f.Dst.ID, "a port scan from %s is not allowed", f.Src.ID)
		return
	}
	ps := g.peers(t, &f.Src, g.srcAddrs(f), f)
	for _, p := range ps {
		t.ingress.add(peerKeyOf(p), p, portSpec{protocol(f.Proto), f.Port})
	}
}

func (g *generator) addEgress(t *target, f *flows.Flow) {
	if f.Port == 0 {
		g.note(f.Src.ID, "a port scan of %s is not allowed", f.Dst.ID)
		return
	}
	ps := g.peers(t, &f.Dst, g.dstAddrs(f), f)
	for _, p := range ps {
		t.egress.add(peerKeyOf(p), p, portSpec{protocol(f.Proto), f.Port})
	}
}
