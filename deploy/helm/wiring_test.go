package helm_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// workload is a rendered pod template with the object that holds it.
type workload struct {
	name   string
	labels map[string]string
	spec   *corev1.PodSpec
	// claims are a StatefulSet's volume claim templates, volumes too.
	claims []string
}

func workloads(objs []object) []workload {
	var ws []workload
	for _, o := range objs {
		var tmpl *corev1.PodTemplateSpec
		var claims []string
		switch v := o.obj.(type) {
		case *appsv1.DaemonSet:
			tmpl = &v.Spec.Template
		case *appsv1.Deployment:
			tmpl = &v.Spec.Template
		case *appsv1.StatefulSet:
			tmpl = &v.Spec.Template
			for _, c := range v.Spec.VolumeClaimTemplates {
				claims = append(claims, c.Name)
			}
		default:
			continue
		}
		ws = append(ws, workload{name: o.String(), labels: tmpl.Labels, spec: &tmpl.Spec, claims: claims})
	}
	return ws
}

// checkWiring checks what the API types cannot: every mount names a
// volume of its pod, every probe and Service port names a container
// port, and every Service, NetworkPolicy and workload selector selects
// the pods it is meant for.
func checkWiring(t *testing.T, objs []object) {
	t.Helper()
	ws := workloads(objs)
	for _, w := range ws {
		vols := map[string]bool{}
		for _, v := range w.spec.Volumes {
			vols[v.Name] = true
		}
		for _, c := range w.claims {
			vols[c] = true
		}
		for _, c := range w.spec.Containers {
			ports := map[string]bool{}
			for _, p := range c.Ports {
				ports[p.Name] = true
			}
			for _, m := range c.VolumeMounts {
				if !vols[m.Name] {
					t.Errorf("%s: container %s mounts volume %s, which the pod lacks", w.name, c.Name, m.Name)
				}
			}
			for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
				if p != nil && p.HTTPGet != nil && p.HTTPGet.Port.StrVal != "" && !ports[p.HTTPGet.Port.StrVal] {
					t.Errorf("%s: a probe uses port %s, which container %s lacks", w.name, p.HTTPGet.Port.StrVal, c.Name)
				}
			}
		}
	}
	for _, o := range objs {
		switch v := o.obj.(type) {
		case *appsv1.DaemonSet:
			selects(t, o.String(), labels.SelectorFromSet(v.Spec.Selector.MatchLabels), []workload{{labels: v.Spec.Template.Labels}})
		case *appsv1.Deployment:
			selects(t, o.String(), labels.SelectorFromSet(v.Spec.Selector.MatchLabels), []workload{{labels: v.Spec.Template.Labels}})
		case *appsv1.StatefulSet:
			selects(t, o.String(), labels.SelectorFromSet(v.Spec.Selector.MatchLabels), []workload{{labels: v.Spec.Template.Labels}})
		case *corev1.Service:
			for _, w := range selects(t, o.String(), labels.SelectorFromSet(v.Spec.Selector), ws) {
				for _, p := range v.Spec.Ports {
					if !hasPort(w.spec, p.TargetPort.StrVal) {
						t.Errorf("%s: target port %q is not a port of %s", o, p.TargetPort.StrVal, w.name)
					}
				}
			}
		case *networkingv1.NetworkPolicy:
			selects(t, o.String(), labels.SelectorFromSet(v.Spec.PodSelector.MatchLabels), ws)
			for _, rule := range v.Spec.Ingress {
				for _, peer := range rule.From {
					if peer.PodSelector != nil {
						selects(t, o.String()+" ingress peer", labels.SelectorFromSet(peer.PodSelector.MatchLabels), ws)
					}
				}
			}
		case *serviceMonitor:
			var matched bool
			for _, s := range objs {
				if svc, ok := s.obj.(*corev1.Service); ok && labels.SelectorFromSet(v.Spec.Selector.MatchLabels).Matches(labels.Set(svc.Labels)) {
					matched = true
				}
			}
			if !matched {
				t.Errorf("%s selects no Service", o)
			}
		}
	}
}

// selects returns the workloads sel matches, failing when there is none.
func selects(t *testing.T, who string, sel labels.Selector, ws []workload) []workload {
	t.Helper()
	var hit []workload
	for _, w := range ws {
		if !sel.Empty() && sel.Matches(labels.Set(w.labels)) {
			hit = append(hit, w)
		}
	}
	if len(hit) == 0 {
		t.Errorf("%s: selector %q matches no pod", who, sel)
	}
	return hit
}

func hasPort(spec *corev1.PodSpec, name string) bool {
	for _, c := range spec.Containers {
		for _, p := range c.Ports {
			if p.Name == name {
				return true
			}
		}
	}
	return false
}
