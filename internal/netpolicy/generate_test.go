package netpolicy

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/vigilsec/vigil/internal/baseline"
	"github.com/vigilsec/vigil/internal/flows"
	"github.com/vigilsec/vigil/internal/workload"
)

var (
	clientW = workload.NewK8s("shop", workload.OwnerDeployment, "frontend", "web", false)
	serverW = workload.NewK8s("shop", workload.OwnerDeployment, "api", "app", false)
	hostW   = workload.NewExe("/usr/bin/curl")

	podLabels = map[string]map[string]string{
		clientW.ID: {"app": "frontend", "pod-template-hash": "7d9f8b6c5d"},
		serverW.ID: {"app": "api", "tier": "backend", "pod-template-hash": "5c6b7d8f9"},
	}

	// The universe the policies are checked against.
	client   = endpoint{name: "client", ip: netip.MustParseAddr("10.244.0.5"), pod: true, ns: "shop", labels: podLabels[clientW.ID]}
	server   = endpoint{name: "server", ip: netip.MustParseAddr("10.244.0.9"), pod: true, ns: "shop", labels: podLabels[serverW.ID]}
	other    = endpoint{name: "other", ip: netip.MustParseAddr("10.244.0.30"), pod: true, ns: "shop", labels: map[string]string{"app": "other"}}
	lookalik = endpoint{name: "tools/frontend", ip: netip.MustParseAddr("10.244.0.40"), pod: true, ns: "tools", labels: map[string]string{"app": "frontend"}}
	host     = endpoint{name: "host", ip: netip.MustParseAddr("10.0.0.1")}
	web      = endpoint{name: "93.184.216.34", ip: netip.MustParseAddr("93.184.216.34")}
	resolver = endpoint{name: "8.8.8.8", ip: netip.MustParseAddr("8.8.8.8")}
	dnsSvc   = endpoint{name: "kube-dns", ip: netip.MustParseAddr("10.96.0.10")}
	universe = []endpoint{client, server, other, lookalik, host, web, resolver, dnsSvc}
	ports    = []uint16{22, 53, 443, 8080, 9090}
	protos   = []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP}
)

// observe feeds a real aggregator the observations of a small cluster:
// the client calls the server, a web site and the cluster DNS; a host
// program scrapes the server. Both ends of in-node connections are seen.
func observe(t *testing.T, extra ...flows.Observation) *flows.Snapshot {
	t.Helper()
	names := flows.NewNameTable(time.Hour, 0, nil)
	names.SetService(dnsSvc.ip, "kube-system", "kube-dns")
	agg, err := flows.New(flows.Config{}, flows.Options{Names: names})
	if err != nil {
		t.Fatal(err)
	}
	ap := func(a netip.Addr, port uint16) netip.AddrPort { return netip.AddrPortFrom(a, port) }
	obs := []flows.Observation{
		{Workload: clientW, Dir: flows.Outbound, Proto: flows.TCP, Local: ap(client.ip, 40000), Peer: ap(server.ip, 8080)},
		{Workload: serverW, Dir: flows.Inbound, Proto: flows.TCP, Local: ap(server.ip, 8080), Peer: ap(client.ip, 40000)},
		{Workload: clientW, Dir: flows.Outbound, Proto: flows.TCP, Local: ap(client.ip, 40001), Peer: ap(web.ip, 443)},
		{Workload: clientW, Dir: flows.Outbound, Proto: flows.UDP, Local: ap(client.ip, 40002), Peer: ap(dnsSvc.ip, 53)},
		{Workload: hostW, Dir: flows.Outbound, Proto: flows.TCP, Local: ap(host.ip, 50000), Peer: ap(server.ip, 9090)},
		{Workload: serverW, Dir: flows.Inbound, Proto: flows.TCP, Local: ap(server.ip, 9090), Peer: ap(host.ip, 50000)},
		{Workload: clientW, Dir: flows.Outbound, Proto: flows.TCP, Local: ap(netip.MustParseAddr("127.0.0.1"), 1), Peer: ap(netip.MustParseAddr("127.0.0.1"), 15000)},
	}
	for _, o := range append(obs, extra...) {
		if !agg.Observe(&o) {
			t.Fatalf("observation refused: %+v", o)
		}
	}
	return agg.Snapshot()
}

func labelsOf(w *workload.Workload) (map[string]string, bool) {
	l, ok := podLabels[w.ID]
	return l, ok
}

// decodeStrict reads a YAML stream back into the API types, refusing
// unknown and duplicate fields, and checks what the API server would.
func decodeStrict(t *testing.T, data []byte) []networkingv1.NetworkPolicy {
	t.Helper()
	var out []networkingv1.NetworkPolicy
	for doc := range strings.SplitSeq(string(data), "\n---\n") {
		var np networkingv1.NetworkPolicy
		if err := yaml.UnmarshalStrict([]byte(doc), &np); err != nil {
			t.Fatalf("strict decode: %v\n%s", err, doc)
		}
		if np.APIVersion != "networking.k8s.io/v1" || np.Kind != "NetworkPolicy" {
			t.Errorf("type %s %s", np.APIVersion, np.Kind)
		}
		for _, e := range validation.IsDNS1123Subdomain(np.Name) {
			t.Errorf("name %q: %s", np.Name, e)
		}
		for k, v := range np.Spec.PodSelector.MatchLabels {
			if len(validation.IsQualifiedName(k))+len(validation.IsValidLabelValue(v)) > 0 {
				t.Errorf("label %s=%s is not valid", k, v)
			}
		}
		for _, r := range np.Spec.Egress {
			checkPeers(t, r.To, r.Ports)
		}
		for _, r := range np.Spec.Ingress {
			checkPeers(t, r.From, r.Ports)
		}
		out = append(out, np)
	}
	return out
}

func checkPeers(t *testing.T, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) {
	for _, p := range peers {
		if p.IPBlock != nil {
			if pfx, err := netip.ParsePrefix(p.IPBlock.CIDR); err != nil || pfx != pfx.Masked() {
				t.Errorf("ipBlock %q is not a masked CIDR", p.IPBlock.CIDR)
			}
		}
	}
	for _, p := range ports {
		if p.Protocol == nil || (*p.Protocol != corev1.ProtocolTCP && *p.Protocol != corev1.ProtocolUDP) {
			t.Errorf("port protocol %v", p.Protocol)
		}
		if p.Port != nil && (p.Port.IntValue() < 1 || p.Port.IntValue() > 65535) {
			t.Errorf("port %v", p.Port)
		}
	}
}

type conn struct {
	src, dst string
	port     uint16
	proto    corev1.Protocol
}

func (c conn) String() string { return fmt.Sprintf("%s->%s %d/%s", c.src, c.dst, c.port, c.proto) }

// allowedSet evaluates every connection of the universe that touches a
// pod the policies select.
func allowedSet(ps []networkingv1.NetworkPolicy) []string {
	var out []string
	for _, s := range universe {
		for _, d := range universe {
			if s.name == d.name || (!policed(ps, s) && !policed(ps, d)) {
				continue
			}
			for _, port := range ports {
				for _, proto := range protos {
					if allowed(ps, s, d, port, proto) {
						out = append(out, conn{s.name, d.name, port, proto}.String())
					}
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

func policed(ps []networkingv1.NetworkPolicy, e endpoint) bool {
	return slices.ContainsFunc(ps, func(p networkingv1.NetworkPolicy) bool {
		return isolates(&p, e, networkingv1.PolicyTypeIngress) || isolates(&p, e, networkingv1.PolicyTypeEgress)
	})
}

// TestPolicyAllowsExactlyTheObservedFlows: the client/server pair's
// policies, decoded strictly from their YAML, allow the four observed
// connections and nothing else, in either direction, from any other pod
// (the same labels in another namespace included), the host, or the
// internet.
func TestPolicyAllowsExactlyTheObservedFlows(t *testing.T) {
	snap := observe(t)
	res := Generate(snap, Options{Labels: labelsOf, Addresses: snap.Addresses})
	if len(res.Policies) != 2 {
		t.Fatalf("%d policies, want 2 (client and server)", len(res.Policies))
	}
	data, err := YAML(res.Policies)
	if err != nil {
		t.Fatal(err)
	}
	decoded := decodeStrict(t, data)
	if !equality.Semantic.DeepEqual(decoded, res.Policies) {
		t.Errorf("the YAML does not decode to the policies it was written from:\n%s", data)
	}
	want := []string{
		conn{"client", "93.184.216.34", 443, corev1.ProtocolTCP}.String(),
		conn{"client", "kube-dns", 53, corev1.ProtocolUDP}.String(),
		conn{"client", "server", 8080, corev1.ProtocolTCP}.String(),
		conn{"host", "server", 9090, corev1.ProtocolTCP}.String(),
	}
	if got := allowedSet(decoded); !slices.Equal(got, want) {
		t.Errorf("allowed:\n got %q\nwant %q\n%s", got, want, data)
	}
	if !bytes.Contains(data, []byte("name: vigil-deployment-api")) || bytes.Contains(data, []byte("pod-template-hash")) {
		t.Errorf("names or selectors:\n%s", data)
	}
}

// TestSelection: --namespace and --workload narrow the output; a
// workload without labels gets a note instead of a policy.
func TestSelection(t *testing.T) {
	snap := observe(t)
	res := Generate(snap, Options{Labels: labelsOf, Workload: serverW.ID})
	if len(res.Policies) != 1 || res.Policies[0].Name != "vigil-deployment-api" {
		t.Errorf("workload filter: %d policies", len(res.Policies))
	}
	if res := Generate(snap, Options{Labels: labelsOf, Namespace: "other"}); len(res.Policies) != 0 {
		t.Errorf("namespace filter: %d policies", len(res.Policies))
	}
	res = Generate(snap, Options{})
	if len(res.Policies) != 0 || len(res.Notes) != 2 || !strings.Contains(res.Notes[0].Message, "no pod labels") {
		t.Errorf("without labels: %d policies, notes %+v", len(res.Policies), res.Notes)
	}
}

// TestEgressAgreesWithBaseline: the client has a learned baseline in
// monitor mode. Its egress allows exactly what the baseline holds, for
// every destination and port: an entry learned before (whose flow has
// expired) stays allowed, a flow outside the baseline is left out and
// noted.
func TestEgressAgreesWithBaseline(t *testing.T) {
	cfg := baseline.Default()
	cfg.Enabled = true
	eng, err := baseline.New(cfg, baseline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	old := netip.MustParseAddr("203.0.113.5")
	for _, f := range []baseline.Fact{
		{Dim: baseline.DimOutbound, Addr: server.ip, Port: 8080, Proto: baseline.ProtoTCP},
		{Dim: baseline.DimOutbound, Addr: web.ip, Port: 443, Proto: baseline.ProtoTCP},
		{Dim: baseline.DimOutbound, Addr: dnsSvc.ip, Port: 53, Proto: baseline.ProtoUDP},
		{Dim: baseline.DimOutbound, Addr: old, Port: 443, Proto: baseline.ProtoTCP},
	} {
		eng.Observe(clientW, &f, nil)
	}
	eng.Flush()
	if err := eng.SetMode(clientW.ID, baseline.Monitor); err != nil {
		t.Fatal(err)
	}
	smtp := netip.MustParseAddr("198.51.100.7")
	snap := observe(t, flows.Observation{Workload: clientW, Dir: flows.Outbound, Proto: flows.TCP,
		Local: netip.AddrPortFrom(client.ip, 40009), Peer: netip.AddrPortFrom(smtp, 25)})
	docOf := func(id string) *baseline.Document {
		d, err := eng.Document(id)
		if err != nil {
			return nil
		}
		return d
	}
	res := Generate(snap, Options{Labels: labelsOf, Addresses: snap.Addresses, Baseline: docOf})
	data, err := YAML(res.Policies)
	if err != nil {
		t.Fatal(err)
	}
	ps := decodeStrict(t, data)
	dests := append(slices.Clone(universe), endpoint{name: "old", ip: old}, endpoint{name: "smtp", ip: smtp})
	for _, d := range dests {
		for _, port := range append(slices.Clone(ports), 25) {
			for _, proto := range protos {
				bp := baseline.ProtoTCP
				if proto == corev1.ProtocolUDP {
					bp = baseline.ProtoUDP
				}
				known, _, ok := eng.KnownPeer(clientW.ID, false, d.ip, port, bp)
				if !ok {
					t.Fatal("no baseline")
				}
				if got := egressAllowed(ps, client, d, port, proto); got != known {
					t.Errorf("client -> %s %d/%s: policy allows %v, baseline knows %v", d.name, port, proto, got, known)
				}
			}
		}
	}
	if !slices.ContainsFunc(res.Notes, func(n Note) bool {
		return n.Workload == clientW.ID && strings.Contains(n.Message, "outside the baseline")
	}) {
		t.Errorf("no note for the flow outside the baseline: %+v", res.Notes)
	}
}
