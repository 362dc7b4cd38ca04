// Package helm_test checks the chart in deploy/helm/vigil with the helm v4
// Go module: helm lint, helm template, and a strict decoding of every
// rendered object into the Kubernetes API types. Helm is imported only
// here, in test code, so it never reaches the vigil binary.
package helm_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	"helm.sh/helm/v4/pkg/release"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

const (
	chartDir      = "vigil"
	allValuesFile = "vigil/ci/all-values.yaml"
	// The release the plain manifests are rendered as.
	releaseName = "vigil"
	namespace   = "vigil"
)

// loadValues reads a values file; "" gives the chart's defaults alone.
func loadValues(t *testing.T, path string) map[string]any {
	t.Helper()
	if path == "" {
		return map[string]any{}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vals, err := loader.LoadValues(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return vals
}

// render is `helm template vigil deploy/helm/vigil -n vigil -f valuesFile`:
// an install in client-side dry-run against in-memory storage.
func render(t *testing.T, valuesFile string) string {
	t.Helper()
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &action.Configuration{
		Releases:     storage.Init(driver.NewMemory()),
		KubeClient:   &kubefake.PrintingKubeClient{Out: io.Discard},
		Capabilities: common.DefaultCapabilities,
	}
	install := action.NewInstall(cfg)
	install.DryRunStrategy = action.DryRunClient
	install.ReleaseName = releaseName
	install.Namespace = namespace
	install.Replace = true
	rel, err := install.Run(chrt, loadValues(t, valuesFile))
	if err != nil {
		t.Fatalf("helm template with %q: %v", valuesFile, err)
	}
	acc, err := release.NewAccessor(rel)
	if err != nil {
		t.Fatal(err)
	}
	if hooks := acc.Hooks(); len(hooks) != 0 {
		t.Fatalf("the chart has %d hooks; the plain manifests would miss them", len(hooks))
	}
	return strings.TrimSpace(acc.Manifest()) + "\n"
}

// object is one rendered document, decoded.
type object struct {
	gvk schema.GroupVersionKind
	obj runtime.Object
	raw []byte
}

func (o object) meta() metav1.Object {
	m, err := metaOf(o.obj)
	if err != nil {
		return &metav1.ObjectMeta{}
	}
	return m
}

func metaOf(obj runtime.Object) (metav1.Object, error) {
	if sm, ok := obj.(*serviceMonitor); ok {
		return &sm.ObjectMeta, nil
	}
	acc, ok := obj.(metav1.ObjectMetaAccessor)
	if !ok {
		return nil, fmt.Errorf("%T has no object meta", obj)
	}
	return acc.GetObjectMeta(), nil
}

func (o object) String() string {
	return o.gvk.Kind + "/" + o.meta().GetName()
}

// decodeAll splits a manifest stream and decodes each document strictly
// into its Go type: an unknown or duplicate field, a wrong value type or
// a kind the API types lack is an error.
func decodeAll(t *testing.T, manifest string) []object {
	t.Helper()
	var objs []object
	for i, doc := range strings.Split(manifest, "\n---") {
		doc = strings.TrimSpace(strings.TrimPrefix(doc, "---"))
		if stripComments(doc) == "" {
			continue
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("document %d: %v\n%s", i, err, doc)
		}
		gv, err := schema.ParseGroupVersion(head.APIVersion)
		if err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		gvk := gv.WithKind(head.Kind)
		obj, err := newObject(gvk)
		if err != nil {
			t.Fatalf("document %d: %v\n%s", i, err, doc)
		}
		if err := decodeStrict([]byte(doc), obj); err != nil {
			t.Fatalf("document %d (%s): %v\n%s", i, gvk.Kind, err, doc)
		}
		objs = append(objs, object{gvk: gvk, obj: obj, raw: []byte(doc)})
	}
	return objs
}

// decodeStrict decodes a YAML document as the API server does a request
// with fieldValidation=Strict: keys matched case-sensitively, unknown and
// duplicate fields are errors.
func decodeStrict(doc []byte, obj runtime.Object) error {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strictErrs, err := kjson.UnmarshalStrict(js, obj)
	if err != nil {
		return err
	}
	return errors.Join(strictErrs...)
}

func stripComments(doc string) string {
	var b bytes.Buffer
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(strings.TrimSpace(line))
		}
	}
	return b.String()
}

// newObject gives the Go type of a kind: client-go's scheme for the
// Kubernetes API, serviceMonitor for the Prometheus Operator's CRD.
func newObject(gvk schema.GroupVersionKind) (runtime.Object, error) {
	if gvk == serviceMonitorGVK {
		return &serviceMonitor{}, nil
	}
	return scheme.Scheme.New(gvk)
}

var serviceMonitorGVK = schema.GroupVersionKind{Group: "monitoring.coreos.com", Version: "v1", Kind: "ServiceMonitor"}

// serviceMonitor is the part of the Prometheus Operator's ServiceMonitor
// (monitoring.coreos.com/v1) the chart writes, with the CRD's field names,
// so that strict decoding catches a misspelt or misplaced field. The
// operator's Go module is not a dependency for this one type.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector struct {
			Any        bool     `json:"any,omitempty"`
			MatchNames []string `json:"matchNames,omitempty"`
		} `json:"namespaceSelector"`
		Endpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path,omitempty"`
			Interval string `json:"interval,omitempty"`
		} `json:"endpoints"`
	} `json:"spec"`
}

func (s *serviceMonitor) DeepCopyObject() runtime.Object {
	c := *s
	return &c
}

// writeTemp writes data to a file in a test's temporary directory.
func writeTemp(t *testing.T, name, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
