package sbomtest

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/vigilsec/vigil/internal/sbom"
)

// Equal fails the test with a per-package diff when got and want differ.
func Equal(t testing.TB, got, want []sbom.Package) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	key := func(p sbom.Package) string { return p.Key() }
	gm, wm := map[string]sbom.Package{}, map[string]sbom.Package{}
	for _, p := range got {
		gm[key(p)] = p
	}
	for _, p := range want {
		wm[key(p)] = p
	}
	for k, w := range wm {
		g, ok := gm[k]
		switch {
		case !ok:
			t.Errorf("missing package: %s", js(w))
		case !reflect.DeepEqual(g, w):
			t.Errorf("package differs:\n got %s\nwant %s", js(g), js(w))
		}
	}
	for k, g := range gm {
		if _, ok := wm[k]; !ok {
			t.Errorf("unexpected package: %s", js(g))
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d packages, want %d", len(got), len(want))
	}
	if !t.Failed() {
		t.Errorf("same packages in another order")
	}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
