package baseline

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/baseline/store"
)

// TestRestartKeepsBaselinesAndModes runs an engine on a real store,
// stops it, and checks that a new engine on the same store knows the
// same things in the same modes.
func TestRestartKeepsBaselinesAndModes(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := st.NewWriter(1024, 50*time.Millisecond, nil)
	cfg := Default()
	cfg.ProtectAllowed = true
	e, err := New(cfg, Options{Store: w})
	if err != nil {
		t.Fatal(err)
	}
	facts := realisticFacts()
	for _, f := range facts {
		e.Observe(web, f, nil)
	}
	e.Flush()
	if err := e.SetMode(web.ID, Protect); err != nil {
		t.Fatal(err)
	}
	want := e.lookup(web.ID).view.Load().items()
	if err := w.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	e2, _ := New(cfg, Options{})
	if err := e2.Restore(recs); err != nil {
		t.Fatal(err)
	}
	if m, ok := e2.Mode(web.ID); !ok || m != Protect {
		t.Fatalf("mode after restart: %v %v", m, ok)
	}
	for _, f := range facts {
		if r := e2.Observe(web, f, nil); r != Drift && r != Known {
			t.Fatalf("%s after restart: %v", f.Value(), r)
		} else if r != Known {
			t.Errorf("%s not known after restart", f.Value())
		}
	}
	if got := e2.lookup(web.ID).view.Load().items(); !slices.Equal(got, want) {
		t.Errorf("items after restart:\n%v\nwant\n%v", got, want)
	}

	// Protect is refused when the configuration no longer allows it.
	cfg.ProtectAllowed = false
	e3, _ := New(cfg, Options{})
	if err := e3.Restore(recs); err != nil {
		t.Fatal(err)
	}
	if m, _ := e3.Mode(web.ID); m != Monitor {
		t.Errorf("protect without protect_allowed restored as %v", m)
	}
}

// TestRestoreAppliesLowerCaps: a cap lowered in the configuration takes
// effect on the stored baseline at start.
func TestRestoreAppliesLowerCaps(t *testing.T) {
	var items []store.Item
	for _, p := range []string{"/a/1x", "/b/2y", "/c/3z", "/d/4w"} {
		items = append(items, store.Item{Dim: "files_written", A: p})
	}
	rec := store.Record{Workload: store.Workload{ID: web.ID, Mode: "monitor"}, Items: items}
	cfg := Default()
	cfg.Dimensions.FilesWritten.Cap = 2
	e, _ := New(cfg, Options{})
	if err := e.Restore([]store.Record{rec, {Workload: store.Workload{ID: "nonsense"}}}); err == nil {
		t.Error("a record with a bad id restored without error")
	}
	p := e.lookup(web.ID)
	if n := p.view.Load().writes.Len(); n > 2 {
		t.Fatalf("%d patterns under cap 2", n)
	}
	for _, it := range items {
		if !p.view.Load().writes.Match(it.A) {
			t.Errorf("%s lost", it.A)
		}
	}
}
