package helm_test

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/hostfs"
)

var update = flag.Bool("update", false, "rewrite deploy/kubernetes/vigil.yaml from the chart's defaults")

const plainManifests = "../kubernetes/vigil.yaml"

const plainHeader = `# Vigil's node agent, rendered from the Helm chart deploy/helm/vigil with
# its default values (release "vigil", namespace "vigil"). Do not edit:
# change the chart and run ` + "`go test ./deploy/helm -update`" + `.
# kubectl create namespace vigil && kubectl apply -f deploy/kubernetes/vigil.yaml
`

// TestLint is `helm lint --strict` with the default values and with every
// option on: a warning fails as an error does.
func TestLint(t *testing.T) {
	for _, file := range []string{"", allValuesFile} {
		lint := action.NewLint()
		lint.Strict = true
		lint.Namespace = namespace
		res := lint.Run([]string{chartDir}, loadValues(t, file))
		for _, m := range res.Messages {
			t.Logf("lint %q: %s", file, m.Error())
		}
		if res.TotalChartsLinted != 1 || len(res.Errors) != 0 {
			t.Errorf("helm lint with %q: %d charts linted, errors %v", file, res.TotalChartsLinted, res.Errors)
		}
	}
}

// TestRenderDefaults renders the chart as installed with no values: the
// agent alone, with its RBAC and NetworkPolicy.
func TestRenderDefaults(t *testing.T) {
	objs := decodeAll(t, render(t, ""))
	wantKinds(t, objs, map[string]int{
		"ServiceAccount": 1, "ClusterRole": 1, "ClusterRoleBinding": 1, "ConfigMap": 2,
		"DaemonSet": 1, "Service": 1, "NetworkPolicy": 1,
	})
	checkAgent(t, objs, loadValues(t, filepath.Join(chartDir, "values.yaml")))
	checkRBAC(t, objs)
	checkReferences(t, objs, nil)
	checkConfigs(t, objs)
	checkWiring(t, objs)
}

// TestRenderAllOptions renders every option on: the server, in-chart NATS
// and PostgreSQL, the exposed API, custom rules and ServiceMonitors.
func TestRenderAllOptions(t *testing.T) {
	objs := decodeAll(t, render(t, allValuesFile))
	wantKinds(t, objs, map[string]int{
		"ServiceAccount": 2, "ClusterRole": 1, "ClusterRoleBinding": 1, "ConfigMap": 3,
		"DaemonSet": 1, "Deployment": 1, "StatefulSet": 2, "Service": 4, "Secret": 2,
		"NetworkPolicy": 4, "ServiceMonitor": 2,
	})
	vals := loadValues(t, filepath.Join(chartDir, "values.yaml"))
	checkAgent(t, objs, vals)
	checkRBAC(t, objs)
	// Secrets the values name but the chart does not create.
	checkReferences(t, objs, []string{"alert-webhook", "registry-pull", "vigil-api-tls", "vigil-api-token"})
	checkConfigs(t, objs)
	checkWiring(t, objs)

	server := find[*appsv1.Deployment](t, objs, "vigil-server")
	pod := server.Spec.Template.Spec
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Error("the server pod may run as root")
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("the server pod mounts a service account token it has no use for")
	}
	c := pod.Containers[0]
	if c.SecurityContext == nil || c.SecurityContext.Capabilities == nil || len(c.SecurityContext.Capabilities.Add) != 0 ||
		!slices.Equal(c.SecurityContext.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("server capabilities: %+v", c.SecurityContext)
	}
	checkProbes(t, "server", c)
}

// TestPlainManifestsCurrent checks that deploy/kubernetes/vigil.yaml is
// the chart rendered with its defaults; -update rewrites it.
func TestPlainManifestsCurrent(t *testing.T) {
	want := plainHeader + render(t, "")
	if *update {
		if err := os.WriteFile(plainManifests, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(plainManifests)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s differs from the chart rendered with its defaults; run go test ./deploy/helm -update", plainManifests)
	}
	decodeAll(t, string(got))
}

func wantKinds(t *testing.T, objs []object, want map[string]int) {
	t.Helper()
	got := map[string]int{}
	var names []string
	for _, o := range objs {
		got[o.gvk.Kind]++
		names = append(names, o.String())
		if ns := o.meta().GetNamespace(); ns != namespace && !clusterScoped(o.gvk.Kind) {
			t.Errorf("%s is in namespace %q", o, ns)
		}
	}
	for kind, n := range want {
		if got[kind] != n {
			t.Errorf("%d %s rendered, want %d (objects: %s)", got[kind], kind, n, strings.Join(names, ", "))
		}
	}
	for kind := range got {
		if _, ok := want[kind]; !ok {
			t.Errorf("unexpected kind %s rendered", kind)
		}
	}
}

func clusterScoped(kind string) bool { return kind == "ClusterRole" || kind == "ClusterRoleBinding" }

// find returns the one object of type T named name.
func find[T any](t *testing.T, objs []object, name string) T {
	t.Helper()
	for _, o := range objs {
		if v, ok := o.obj.(T); ok && o.meta().GetName() == name {
			return v
		}
	}
	var zero T
	t.Fatalf("no %T named %s rendered", zero, name)
	return zero
}

// checkAgent holds the DaemonSet to what docs/deploy.md promises: host
// pid namespace, not privileged, exactly the listed capabilities, the
// host's directories read-only under /host, every node tolerated.
func checkAgent(t *testing.T, objs []object, defaults map[string]any) {
	t.Helper()
	ds := find[*appsv1.DaemonSet](t, objs, "vigil-agent")
	pod := ds.Spec.Template.Spec
	if !pod.HostPID || pod.HostNetwork || pod.HostIPC {
		t.Errorf("agent: hostPID %v, hostNetwork %v, hostIPC %v; want only hostPID", pod.HostPID, pod.HostNetwork, pod.HostIPC)
	}
	if !slices.ContainsFunc(pod.Tolerations, func(tol corev1.Toleration) bool {
		return tol.Operator == corev1.TolerationOpExists && tol.Key == "" && tol.Effect == ""
	}) {
		t.Errorf("agent tolerations %+v do not tolerate every taint", pod.Tolerations)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("agent: %d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.Privileged == nil || *sc.Privileged || sc.Capabilities == nil {
		t.Fatalf("agent security context %+v: want privileged false and capabilities", sc)
	}
	var want []string
	for _, c := range defaults["agent"].(map[string]any)["capabilities"].([]any) {
		want = append(want, c.(string))
	}
	var got []string
	for _, c := range sc.Capabilities.Add {
		got = append(got, string(c))
	}
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(got, want) || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("agent capabilities add %v drop %v; want add %v drop [ALL]", got, sc.Capabilities.Drop, want)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("agent root file system is writable")
	}
	checkProbes(t, "agent", c)
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	if e := env["NODE_NAME"]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "spec.nodeName" {
		t.Errorf("NODE_NAME %+v: want the downward API's spec.nodeName", e)
	}
	if e := env[hostfs.EnvRoot]; e.Value != "/host" {
		t.Errorf("%s = %q, want /host", hostfs.EnvRoot, e.Value)
	}
	writable := map[string]bool{"/var/lib/vigil": true, "/tmp": true}
	for _, m := range c.VolumeMounts {
		if !m.ReadOnly && !writable[m.MountPath] {
			t.Errorf("agent mount %s is writable", m.MountPath)
		}
		if m.SubPath != "" {
			t.Errorf("agent mount %s uses subPath, which never sees ConfigMap updates", m.MountPath)
		}
	}
	for _, v := range pod.Volumes {
		if v.HostPath != nil && !strings.HasPrefix(v.Name, "host-") && v.Name != "data" && v.Name != "tracefs" {
			t.Errorf("host path volume %s (%s) is not one docs/deploy.md lists", v.Name, v.HostPath.Path)
		}
	}
}

func checkProbes(t *testing.T, who string, c corev1.Container) {
	t.Helper()
	for probe, want := range map[*corev1.Probe]string{c.LivenessProbe: "/healthz", c.ReadinessProbe: "/readyz"} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != want || probe.HTTPGet.Port.String() != "metrics" {
			t.Errorf("%s: probe %+v, want GET %s on the metrics port", who, probe, want)
		}
	}
}

// checkRBAC allows the pod informer and the owner lookups, nothing else.
func checkRBAC(t *testing.T, objs []object) {
	t.Helper()
	role := find[*rbacv1.ClusterRole](t, objs, "vigil-agent")
	var got []string
	for _, r := range role.Rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				got = append(got, g+"/"+res+":"+strings.Join(r.Verbs, ","))
			}
		}
	}
	want := []string{"/pods:get,list,watch", "apps/replicasets:get", "batch/jobs:get"}
	if !slices.Equal(got, want) {
		t.Errorf("agent ClusterRole allows %v, want %v", got, want)
	}
	for _, o := range objs {
		if _, ok := o.obj.(*rbacv1.Role); ok {
			t.Errorf("unexpected %s", o)
		}
	}
}

// checkReferences finds every ConfigMap, Secret and ServiceAccount a pod
// names among the rendered objects or in external (made by the user).
func checkReferences(t *testing.T, objs []object, external []string) {
	t.Helper()
	have := map[string]bool{}
	for _, o := range objs {
		have[o.gvk.Kind+"/"+o.meta().GetName()] = true
	}
	for _, name := range external {
		have["Secret/"+name] = true
	}
	need := func(owner, kind, name string) {
		if !have[kind+"/"+name] {
			t.Errorf("%s refers to %s %s, which is neither rendered nor expected to exist", owner, kind, name)
		}
	}
	for _, o := range objs {
		var spec *corev1.PodSpec
		switch v := o.obj.(type) {
		case *appsv1.DaemonSet:
			spec = &v.Spec.Template.Spec
		case *appsv1.Deployment:
			spec = &v.Spec.Template.Spec
		case *appsv1.StatefulSet:
			spec = &v.Spec.Template.Spec
		default:
			continue
		}
		if spec.ServiceAccountName != "" {
			need(o.String(), "ServiceAccount", spec.ServiceAccountName)
		}
		for _, s := range spec.ImagePullSecrets {
			need(o.String(), "Secret", s.Name)
		}
		for _, v := range spec.Volumes {
			if v.ConfigMap != nil {
				need(o.String(), "ConfigMap", v.ConfigMap.Name)
			}
			if v.Secret != nil {
				need(o.String(), "Secret", v.Secret.SecretName)
			}
		}
		for _, c := range spec.Containers {
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					need(o.String(), "Secret", e.ValueFrom.SecretKeyRef.Name)
				}
			}
		}
	}
}

// checkConfigs loads the rendered agent and server configuration files
// the way vigil does, strictly, and the custom rules with the defaults.
func checkConfigs(t *testing.T, objs []object) {
	t.Helper()
	agent := find[*corev1.ConfigMap](t, objs, "vigil-agent-config")
	path := writeTemp(t, "vigil.yaml", agent.Data["vigil.yaml"])
	cfg, err := config.Load(path, true, []string{"NODE_NAME=node-1"})
	if err != nil {
		t.Fatalf("agent configuration:\n%s\n%v", agent.Data["vigil.yaml"], err)
	}
	if !cfg.Kubernetes.Enabled || cfg.MetricsAddr == "" {
		t.Errorf("agent configuration: kubernetes.enabled %v, metrics_addr %q", cfg.Kubernetes.Enabled, cfg.MetricsAddr)
	}
	rules := find[*corev1.ConfigMap](t, objs, "vigil-rules")
	if len(rules.Data) > 0 {
		if !slices.Equal(cfg.Rules, []string{"/etc/vigil/rules.d"}) {
			t.Errorf("custom rules are given but rules is %v", cfg.Rules)
		}
		dir := t.TempDir()
		for name, text := range rules.Data {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		cfg.Rules = []string{dir}
		rs, err := detect.Load(detect.LoadOptionsFrom(cfg))
		if err != nil {
			t.Fatal(err)
		}
		if rs.Diagnostics.HasErrors() {
			t.Errorf("custom rules: %v", rs.Diagnostics)
		}
		if err := rs.Runnable(); err != nil {
			t.Error(err)
		}
	}
	for _, o := range objs {
		cm, ok := o.obj.(*corev1.ConfigMap)
		if !ok || cm.Name != "vigil-server-config" {
			continue
		}
		path := writeTemp(t, "server.yaml", cm.Data["server.yaml"])
		env := []string{"VIGIL_DATABASE_URL=postgres://vigil@db:5432/vigil"}
		if _, err := config.LoadServer(path, true, env); err != nil {
			t.Errorf("server configuration:\n%s\n%v", cm.Data["server.yaml"], err)
		}
	}
}

// TestValuesDocumented keeps every capability in values.yaml explained
// on its line and in docs/deploy.md.
func TestValuesDocumented(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	var vals struct {
		Agent struct {
			Capabilities []string `json:"capabilities"`
		} `json:"agent"`
	}
	if err := yaml.Unmarshal(raw, &vals); err != nil {
		t.Fatal(err)
	}
	if len(vals.Agent.Capabilities) == 0 {
		t.Fatal("values.yaml lists no capabilities")
	}
	for _, c := range vals.Agent.Capabilities {
		if !explained(string(raw), c) {
			t.Errorf("values.yaml: %s has no comment on its line saying what it is for", c)
		}
		if !strings.Contains(string(doc), "`CAP_"+c+"`") {
			t.Errorf("docs/deploy.md does not explain CAP_%s", c)
		}
	}
}

// explained reports whether values.yaml lists capability c with a
// comment after it on the same line.
func explained(values, c string) bool {
	for _, line := range strings.Split(values, "\n") {
		item, comment, ok := strings.Cut(strings.TrimSpace(line), "#")
		if ok && strings.TrimSpace(item) == "- "+c && len(strings.TrimSpace(comment)) > 10 {
			return true
		}
	}
	return false
}
