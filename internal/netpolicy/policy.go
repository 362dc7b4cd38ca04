package netpolicy

import (
	"bytes"
	"maps"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Metadata on every generated policy.
const (
	ManagedByLabel      = "app.kubernetes.io/managed-by"
	ManagedBy           = "vigil"
	WorkloadsAnnotation = "vigil.dev/workloads"
)

// policies renders every target, sorted by namespace and name.
func (g *generator) policies() []networkingv1.NetworkPolicy {
	out := []networkingv1.NetworkPolicy{}
	for _, key := range slices.Sorted(maps.Keys(g.targets)) {
		t := g.targets[key]
		ids := make([]string, len(t.workloads))
		for i, w := range t.workloads {
			ids[i] = w.ID
		}
		slices.Sort(ids)
		np := networkingv1.NetworkPolicy{
			TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
			ObjectMeta: metav1.ObjectMeta{
				Name:        policyName(t.ownerKind, t.owner),
				Namespace:   t.ns,
				Labels:      map[string]string{ManagedByLabel: ManagedBy},
				Annotations: map[string]string{WorkloadsAnnotation: strings.Join(ids, ",")},
			},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: t.labels},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			},
		}
		for _, r := range t.ingress.rules() {
			np.Spec.Ingress = append(np.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: r.peers, Ports: r.ports})
		}
		for _, r := range t.egress.rules() {
			np.Spec.Egress = append(np.Spec.Egress, networkingv1.NetworkPolicyEgressRule{To: r.peers, Ports: r.ports})
		}
		out = append(out, np)
	}
	return out
}

// policyName is "vigil-<owner kind>-<owner>", within the 253 characters
// of a DNS subdomain; owner names are DNS names already.
func policyName(kind, owner string) string {
	n := "vigil-" + kind + "-" + owner
	if len(n) > 253 {
		n = strings.TrimRight(n[:253], "-.")
	}
	return n
}

// YAML renders policies as a multi-document YAML stream, ready for
// kubectl apply.
func YAML(policies []networkingv1.NetworkPolicy) ([]byte, error) {
	var b bytes.Buffer
	for i := range policies {
		if i > 0 {
			b.WriteString("---\n")
		}
		y, err := yaml.Marshal(&policies[i])
		if err != nil {
			return nil, err
		}
		b.Write(y)
	}
	return b.Bytes(), nil
}
