// Package netpolicy writes Kubernetes networking.k8s.io/v1
// NetworkPolicies, ingress and egress, that allow exactly the flows the
// connection map observed (package flows): one policy per pod template
// (a workload's owner in its namespace), selecting the pods by their
// labels, with pod and namespace selectors for peers that are pods and
// ipBlocks for everything else.
//
// When a workload has a learned baseline (package baseline) out of learn
// mode, its egress follows the baseline's outbound dimension instead:
// the baseline is the reviewed statement of what the workload may reach,
// flows outside it are departures and are not allowed, and entries the
// baseline learned whose flows have since expired stay allowed.
package netpolicy

import (
	"net/netip"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/vigilsec/vigil/internal/baseline"
	"github.com/vigilsec/vigil/internal/flows"
	"github.com/vigilsec/vigil/internal/workload"
)

// DefaultNamespaceLabel is the label Kubernetes puts on every namespace
// with its name (1.21 and later), which namespace selectors match.
const DefaultNamespaceLabel = "kubernetes.io/metadata.name"

// Options select and shape the policies.
type Options struct {
	// Namespace, if set, keeps the policies of that namespace only.
	Namespace string
	// Workload, if set, keeps the policy of the pods of that workload id.
	Workload string
	// Labels returns a Kubernetes workload's pod labels (from the pod
	// informer); a workload without them cannot be selected, and a peer
	// without them is allowed by address only.
	Labels func(w *workload.Workload) (map[string]string, bool)
	// Baseline returns a workload's baseline, nil when it has none.
	Baseline func(id string) *baseline.Document
	// Addresses are the addresses each workload uses on this node
	// (flows.Snapshot.Addresses), for peers that are not pods.
	Addresses map[string][]netip.Addr
	// NamespaceLabel is the namespace label selectors use
	// (DefaultNamespaceLabel).
	NamespaceLabel string
}

// Note says what a generated policy could not express, or left out.
type Note struct {
	Workload string `json:"workload"`
	Message  string `json:"message"`
}

// Result is a generation's output.
type Result struct {
	Policies []networkingv1.NetworkPolicy
	Notes    []Note
}

// target is the pods one policy selects: the containers of one owner.
type target struct {
	ns, ownerKind, owner string
	workloads            []*workload.Workload
	labels               map[string]string
	ingress, egress      *ruleSet
}

type generator struct {
	opts    Options
	targets map[string]*target
	notes   []Note
}

// Generate writes the policies for the flows of a snapshot.
func Generate(snap *flows.Snapshot, opts Options) Result {
	if opts.NamespaceLabel == "" {
		opts.NamespaceLabel = DefaultNamespaceLabel
	}
	g := &generator{opts: opts, targets: map[string]*target{}}
	ids := make([]string, 0, len(snap.Workloads))
	for id := range snap.Workloads {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		g.target(snap.Workloads[id])
	}
	governed := map[string]*baseline.Document{}
	for _, t := range g.targets {
		for _, w := range t.workloads {
			if d := g.baseline(w.ID); d != nil && d.Mode != baseline.Learn.String() {
				governed[w.ID] = d
			}
		}
	}
	for i := range snap.Flows {
		f := &snap.Flows[i]
		if t := g.targetOf(&f.Dst); t != nil {
			g.addIngress(t, f)
		}
		if t := g.targetOf(&f.Src); t != nil {
			d := governed[f.Src.ID]
			if d == nil || coveredByBaseline(d, f) {
				g.addEgress(t, f)
			} else {
				g.note(f.Src.ID, "egress to %s port %s is outside the baseline: not allowed", f.Dst.ID, portName(f.Port, f.Proto))
			}
		}
	}
	for _, t := range g.targets {
		for _, w := range t.workloads {
			if d := g.baseline(w.ID); d != nil {
				g.addBaselineEgress(t, w, d, snap)
			}
		}
	}
	return Result{Policies: g.policies(), Notes: g.sortedNotes()}
}

func (g *generator) baseline(id string) *baseline.Document {
	if g.opts.Baseline == nil {
		return nil
	}
	return g.opts.Baseline(id)
}

func (g *generator) note(wid, format string, args ...any) {
	g.notes = append(g.notes, Note{Workload: wid, Message: sprintf(format, args...)})
}

func (g *generator) sortedNotes() []Note {
	slices.SortFunc(g.notes, func(a, b Note) int {
		if c := strings.Compare(a.Workload, b.Workload); c != 0 {
			return c
		}
		return strings.Compare(a.Message, b.Message)
	})
	return slices.Compact(g.notes)
}

// target registers w's pods as a policy target if the options select it
// and its labels are known.
func (g *generator) target(w *workload.Workload) {
	if w.Kind != workload.KindK8s {
		return
	}
	if g.opts.Namespace != "" && w.Namespace != g.opts.Namespace {
		return
	}
	key := w.Namespace + "/" + w.OwnerKind + "/" + w.Owner
	if g.opts.Workload != "" {
		sel, err := workload.Parse(g.opts.Workload)
		if err != nil || sel.Kind != workload.KindK8s || sel.Namespace+"/"+sel.OwnerKind+"/"+sel.Owner != key {
			return
		}
	}
	labels, ok := g.labels(w)
	if !ok {
		g.note(w.ID, "no pod labels known (is the Kubernetes pod informer on?): no policy can select its pods")
		return
	}
	t := g.targets[key]
	if t == nil {
		t = &target{ns: w.Namespace, ownerKind: w.OwnerKind, owner: w.Owner, labels: labels,
			ingress: newRuleSet(), egress: newRuleSet()}
		g.targets[key] = t
	}
	t.workloads = append(t.workloads, w)
}

// labels returns w's pod labels without those that differ from pod to
// pod of one template.
func (g *generator) labels(w *workload.Workload) (map[string]string, bool) {
	if g.opts.Labels == nil {
		return nil, false
	}
	l, ok := g.opts.Labels(w)
	if !ok || len(l) == 0 {
		return nil, false
	}
	out := make(map[string]string, len(l))
	for k, v := range l {
		if !perPodLabels[k] {
			out[k] = v
		}
	}
	return out, len(out) > 0
}

// perPodLabels are set by controllers per pod or per revision.
var perPodLabels = map[string]bool{
	"pod-template-hash": true, "controller-revision-hash": true, "pod-template-generation": true,
	"statefulset.kubernetes.io/pod-name": true, "apps.kubernetes.io/pod-index": true,
	"batch.kubernetes.io/controller-uid": true, "controller-uid": true,
}

// targetOf returns the policy target an endpoint's workload belongs to.
func (g *generator) targetOf(e *flows.Endpoint) *target {
	if e.Kind != flows.KindWorkload || e.Workload.Kind != workload.KindK8s {
		return nil
	}
	w := e.Workload
	return g.targets[w.Namespace+"/"+w.OwnerKind+"/"+w.Owner]
}
