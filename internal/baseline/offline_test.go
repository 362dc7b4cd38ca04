package baseline

import (
	"errors"
	"testing"

	"github.com/vigilsec/vigil/internal/baseline/store"
)

func TestAllowExecWithHashesOnlyWhenNeeded(t *testing.T) {
	h := newHarness(t, nil)
	e := h.e
	e.Observe(web, execFact("/usr/bin/curl", "sha256:aa"), nil)
	e.Observe(web, execFact("/usr/lib/app/plugin", ""), nil)
	e.Flush()
	if err := e.SetMode(web.ID, Protect); err != nil {
		t.Fatal(err)
	}
	calls := 0
	id := func(v string, err error) func() (string, error) {
		return func() (string, error) { calls++; return v, err }
	}
	for _, tc := range []struct {
		path    string
		id      func() (string, error)
		allow   bool
		hashes  int
		wantErr bool
	}{
		{"/usr/bin/nc", id("sha256:bb", nil), false, 0, false},              // unknown path: no need to read it
		{"/usr/lib/app/plugin", id("sha256:cc", nil), true, 0, false},       // known without identity
		{"/usr/bin/curl", id("sha256:aa", nil), true, 1, false},             // pinned: read and compared
		{"/usr/bin/curl", id("sha256:evil", nil), false, 1, false},          // replaced
		{"/usr/bin/curl", id("", errors.New("unreadable")), false, 1, true}, // the caller's policy decides
	} {
		calls = 0
		allow, err := e.AllowExecWith(web, tc.path, tc.id)
		if allow != tc.allow || calls != tc.hashes || (err != nil) != tc.wantErr {
			t.Errorf("%s: allow=%v err=%v hashes=%d", tc.path, allow, err, calls)
		}
	}
}

func TestOfflineCommands(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, d := learnedDocument(t, Monitor)
	d.Executables[0].Identity = ""
	cfg := Default()
	if err := ImportOffline(st, d, cfg); err != nil {
		t.Fatal(err)
	}
	if err := SetModeOffline(st, web.ID, Protect, cfg); !errors.Is(err, ErrProtectNotAllowed) {
		t.Fatalf("protect offline without protect_allowed: %v", err)
	}
	if err := SetModeOffline(st, "k8s/a/pod/b/c", Monitor, cfg); !errors.Is(err, ErrUnknownWorkload) {
		t.Fatalf("unknown workload: %v", err)
	}
	cfg.ProtectAllowed = true
	if err := SetModeOffline(st, web.ID, Protect, cfg); err != nil {
		t.Fatal(err)
	}
	rec, _, _ := st.Get(web.ID)
	back, err := DocumentFromRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	if back.Mode != "protect" || len(back.Items()) != len(d.Items()) {
		t.Fatalf("after offline import and mode: %s, %d items (want %d)", back.Mode, len(back.Items()), len(d.Items()))
	}
	if s := SummaryFromRecord(rec); s.Total() != len(d.Items()) || s.Mode != "protect" {
		t.Errorf("summary %+v", s)
	}
	if err := ResetOffline(st, web.ID, cfg); err != nil {
		t.Fatal(err)
	}
	rec, _, _ = st.Get(web.ID)
	if len(rec.Items) != 0 || rec.Mode != "learn" {
		t.Fatalf("after offline reset: %+v", rec)
	}
	// What the commands wrote is what the agent restores.
	e, _ := New(cfg, Options{})
	if err := e.Restore([]store.Record{rec}); err != nil {
		t.Fatal(err)
	}
	if m, ok := e.Mode(web.ID); !ok || m != Learn {
		t.Errorf("restored mode %v %v", m, ok)
	}
}
