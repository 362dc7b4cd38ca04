package image

import (
	"bytes"
	"path"
	"strings"
	"testing"
)

// FuzzReadManifest reads manifest.json from a docker save archive that
// holds one legacy and one OCI layer: an accepted manifest names one
// image whose layers are all in the archive, and its id is a sha256
// digest or nothing.
func FuzzReadManifest(f *testing.F) {
	layers := []string{"0a1b2c/layer.tar", "blobs/sha256/" + strings.Repeat("d", 64)}
	f.Fuzz(func(t *testing.T, manifest []byte) {
		var entries []tarEntry
		for _, l := range layers {
			entries = append(entries, tarEntry{name: l, body: "layer"})
		}
		entries = append(entries, tarEntry{name: "manifest.json", body: string(manifest)})
		a := tarOf(t, entries)
		idx, err := index(bytes.NewReader(a), int64(len(a)))
		if err != nil {
			t.Fatal(err)
		}
		m, err := readManifest(bytes.NewReader(a), idx)
		if err != nil {
			return
		}
		for _, l := range m.Layers {
			if _, ok := idx[path.Clean(l)]; !ok {
				t.Errorf("layer %q is not in the archive", l)
			}
		}
		if id := m.ID(); id != "" && (len(id) != len("sha256:")+64 || !strings.HasPrefix(id, "sha256:")) {
			t.Errorf("id %q from config %q", id, m.Config)
		}
	})
}
