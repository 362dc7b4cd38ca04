package baseline

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
	"github.com/vigilsec/vigil/internal/workload"
)

// clock is a settable wall clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// sink collects alerts.
type sink struct {
	mu     sync.Mutex
	alerts []*alert.Alert
}

func (s *sink) emit(a *alert.Alert) bool {
	s.mu.Lock()
	s.alerts = append(s.alerts, a)
	s.mu.Unlock()
	return true
}

func (s *sink) take() []*alert.Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.alerts
	s.alerts = nil
	return out
}

type harness struct {
	e     *Engine
	clock *clock
	sink  *sink
}

func newHarness(t testing.TB, mutate func(*Config)) *harness {
	t.Helper()
	cfg := Default()
	cfg.Enabled = true
	cfg.ProtectAllowed = true
	if mutate != nil {
		mutate(&cfg)
	}
	h := &harness{clock: &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}, sink: &sink{}}
	e, err := New(cfg, Options{Emit: h.sink.emit, Now: h.clock.now, Hostname: "node1"})
	if err != nil {
		t.Fatal(err)
	}
	h.e = e
	return h
}

var web = workload.NewK8s("shop", workload.OwnerDeployment, "web", "app", false)

func execFact(path, id string) *Fact { return &Fact{Dim: DimExec, Path: path, Identity: id} }

func TestLearnThenMonitor(t *testing.T) {
	h := newHarness(t, nil)
	e := h.e
	learn := []*Fact{
		execFact("/usr/bin/curl", "sha256:aa"),
		{Dim: DimFileWrite, Path: "/var/log/app.log"},
		{Dim: DimOutbound, Addr: netip.MustParseAddr("10.0.0.5"), Port: 443, Proto: ProtoTCP},
		{Dim: DimListen, Port: 8080, Proto: ProtoTCP},
		{Dim: DimSyscall, Num: 0},
		{Dim: DimUser, Num: 33},
	}
	for _, f := range learn {
		if r := e.Observe(web, f, nil); r != Learned {
			t.Fatalf("first %v: %v", f.Value(), r)
		}
		// Seen again before the flush: still queued once.
		if r := e.Observe(web, f, nil); r != Learned {
			t.Fatalf("again %v: %v", f.Value(), r)
		}
	}
	e.Flush()
	for _, f := range learn {
		if r := e.Observe(web, f, nil); r != Known {
			t.Fatalf("after flush %v: %v", f.Value(), r)
		}
	}
	if err := e.SetMode(web.ID, Monitor); err != nil {
		t.Fatal(err)
	}
	nc := execFact("/usr/bin/nc", "sha256:bb")
	for range 50 {
		if r := e.Observe(web, nc, nil); r != Drift {
			t.Fatalf("new executable in monitor: %v", r)
		}
	}
	alerts := h.sink.take()
	if len(alerts) != 1 {
		t.Fatalf("a burst of one new executable raised %d alerts", len(alerts))
	}
	a := alerts[0]
	if a.Rule != "Baseline drift: new executable" || a.Priority != "Warning" || a.Source != "syscall" || a.Hostname != "node1" {
		t.Errorf("alert: %+v", a)
	}
	of := a.OutputFields
	if of["baseline.workload"] != web.ID || of["baseline.mode"] != "monitor" || of["baseline.dimension"] != "executables" ||
		of["baseline.value"] != "/usr/bin/nc (sha256:bb)" || of["baseline.expected"] != "/usr/bin/curl" {
		t.Errorf("output_fields: %v", of)
	}
	// Monitor learns nothing.
	e.Flush()
	if r := e.Observe(web, nc, nil); r != Drift {
		t.Fatalf("the departure was learned in monitor: %v", r)
	}
	// A replaced binary at a known path is new.
	if r := e.Observe(web, execFact("/usr/bin/curl", "sha256:evil"), nil); r != Drift {
		t.Fatalf("replaced binary: %v", r)
	}
	// The same departure alerts again after repeat_after.
	h.sink.take()
	h.clock.advance(2 * time.Hour)
	e.Observe(web, nc, nil)
	if n := len(h.sink.take()); n != 1 {
		t.Errorf("after repeat_after: %d alerts", n)
	}
}

func TestDriftBudgetAndRandomNames(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Alerts.Burst = 3; c.Alerts.PerMinute = 1 })
	e := h.e
	e.Observe(web, &Fact{Dim: DimFileWrite, Path: "/var/log/app.log"}, nil)
	e.Flush()
	if err := e.SetMode(web.ID, Monitor); err != nil {
		t.Fatal(err)
	}
	// Random temporary names are one departure.
	for _, name := range []string{"tmp.Xy3kPq9ZaB", "tmp.Q2wE4rT6yU", "tmp.Zx9Cv8Bn7M"} {
		e.Observe(web, &Fact{Dim: DimFileWrite, Path: "/tmp/" + name}, nil)
	}
	if n := len(h.sink.take()); n != 1 {
		t.Fatalf("three random names raised %d alerts", n)
	}
	// Different departures are limited by the budget: 2 tokens are left.
	for _, p := range []string{"/etc/a", "/etc/b", "/etc/c", "/etc/d"} {
		e.Observe(web, &Fact{Dim: DimFileWrite, Path: p}, nil)
	}
	if n := len(h.sink.take()); n != 2 {
		t.Fatalf("budget: %d alerts, want 2", n)
	}
	h.clock.advance(time.Minute)
	e.Observe(web, &Fact{Dim: DimFileWrite, Path: "/etc/e"}, nil)
	alerts := h.sink.take()
	if len(alerts) != 1 || alerts[0].OutputFields["baseline.suppressed"] != 2 {
		t.Fatalf("after a minute: %d alerts %v", len(alerts), alerts)
	}
}

func TestAutoMonitor(t *testing.T) {
	h := newHarness(t, nil)
	e := h.e
	e.Observe(web, execFact("/bin/sh", ""), nil)
	e.Flush()
	h.clock.advance(50 * time.Minute)
	e.Observe(web, execFact("/bin/ls", ""), nil) // something new at 50 min
	e.Flush()
	h.clock.advance(20 * time.Minute) // 70 min learning, 20 stable
	e.Flush()
	if m, _ := e.Mode(web.ID); m != Learn {
		t.Fatalf("moved to %v after 20 stable minutes", m)
	}
	h.clock.advance(10 * time.Minute) // 80 min learning, 30 stable
	e.Flush()
	if m, _ := e.Mode(web.ID); m != Monitor {
		t.Fatalf("still %v after 30 stable minutes and 80 of learning", m)
	}
	// Back to learn by command restarts the clock.
	if err := e.SetMode(web.ID, Learn); err != nil {
		t.Fatal(err)
	}
	h.clock.advance(40 * time.Minute)
	e.Flush()
	if m, _ := e.Mode(web.ID); m != Learn {
		t.Fatalf("left learn after 40 minutes: %v", m)
	}
}

func TestProtectDecisions(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.ProtectAllowed = false })
	e := h.e
	e.Observe(web, execFact("/usr/bin/curl", "sha256:aa"), nil)
	e.Observe(web, execFact("/usr/lib/app/*.so", ""), nil)
	e.Observe(web, &Fact{Dim: DimOutbound, Addr: netip.MustParseAddr("10.0.0.5"), Port: 443, Proto: ProtoTCP}, nil)
	e.Flush()
	if err := e.SetMode(web.ID, Protect); !errors.Is(err, ErrProtectNotAllowed) {
		t.Fatalf("protect without protect_allowed: %v", err)
	}
	if !e.AllowExec(web, "/usr/bin/nc", "sha256:bb") {
		t.Fatal("learn mode denied an exec")
	}

	h = newHarness(t, nil)
	e = h.e
	e.Observe(web, execFact("/usr/bin/curl", "sha256:aa"), nil)
	e.Observe(web, &Fact{Dim: DimOutbound, Addr: netip.MustParseAddr("10.0.0.5"), Port: 443, Proto: ProtoTCP}, nil)
	e.Flush()
	if err := e.SetMode(web.ID, Protect); err != nil {
		t.Fatal(err)
	}
	for range 3 { // a denied exec stays denied when retried
		if e.AllowExec(web, "/usr/bin/nc", "sha256:bb") {
			t.Fatal("unknown executable allowed")
		}
		e.Observe(web, execFact("/usr/bin/nc", "sha256:bb"), nil)
		e.Flush()
	}
	if !e.AllowExec(web, "/usr/bin/curl", "sha256:aa") || !e.AllowExec(web, "/usr/bin/curl", "") {
		t.Fatal("known executable denied")
	}
	if e.AllowExec(web, "/usr/bin/curl", "sha256:replaced") {
		t.Fatal("replaced binary allowed")
	}
	if !e.AllowConnect(web, netip.MustParseAddr("10.0.0.5"), 443, ProtoTCP) {
		t.Fatal("known peer denied")
	}
	if e.AllowConnect(web, netip.MustParseAddr("10.0.0.5"), 22, ProtoTCP) || e.AllowConnect(web, netip.MustParseAddr("::ffff:10.0.0.6"), 443, ProtoTCP) {
		t.Fatal("unknown peer allowed")
	}
	other := workload.NewImage("nginx:1", "web")
	if !e.AllowExec(other, "/bin/anything", "") {
		t.Fatal("a workload without a baseline was denied")
	}
	// A departure seen after the fact in protect is reported as not
	// stopped.
	h.sink.take()
	e.Observe(web, execFact("/usr/bin/wget", ""), nil)
	alerts := h.sink.take()
	if len(alerts) != 1 || alerts[0].Enforcement == nil || alerts[0].Enforcement.Outcome != "failed" {
		t.Fatalf("protect departure after the fact: %+v", alerts)
	}
	e.Blocked(web, execFact("/usr/bin/nc2", ""), nil, "fanotify-exec")
	alerts = h.sink.take()
	if len(alerts) != 1 || alerts[0].Enforcement.Outcome != "blocked" || alerts[0].Enforcement.Mechanism != "fanotify-exec" {
		t.Fatalf("blocked: %+v", alerts)
	}
	peers, m, err := e.ConnectAllowList(web.ID)
	if err != nil || m != Protect || len(peers) != 1 || peers[0].Port != 443 {
		t.Fatalf("allow list: %v %v %v", peers, m, err)
	}
}

func TestWorkloadWithoutHash(t *testing.T) {
	h := newHarness(t, nil)
	w := &workload.Workload{ID: web.ID, Name: web.Name, Kind: workload.KindK8s}
	h.e.Observe(w, execFact("/bin/sh", ""), nil)
	h.e.Flush()
	if _, ok := h.e.Mode(web.ID); !ok {
		t.Fatal("a workload built by hand is not found by id")
	}
	if r := h.e.Observe(web, execFact("/bin/sh", ""), nil); r != Known {
		t.Fatalf("the same workload with its hash: %v", r)
	}
	if r := h.e.Observe(nil, execFact("/bin/sh", ""), nil); r != Ignored {
		t.Fatalf("no workload: %v", r)
	}
}

func TestExcludedAndLimited(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Exclude.Namespaces = []string{"kube-system"}
		c.Exclude.Workloads = []string{"host/unit/*"}
		c.MaxWorkloads = 2
	})
	e := h.e
	for _, w := range []*workload.Workload{
		workload.NewK8s("kube-system", workload.OwnerDaemonSet, "proxy", "p", false),
		workload.NewUnit("sshd.service"),
	} {
		if r := e.Observe(w, execFact("/bin/sh", ""), nil); r != Ignored {
			t.Errorf("%s: %v", w.ID, r)
		}
	}
	for i, want := range []Result{Learned, Learned, Ignored} {
		w := workload.NewImage("img:1", string(rune('a'+i)))
		if r := e.Observe(w, execFact("/bin/sh", ""), nil); r != want {
			t.Errorf("workload %d: %v, want %v", i, r, want)
		}
	}
	if s := e.Stats(); s.Workloads != 2 || s.OverLimit != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestResetAndMerge(t *testing.T) {
	h := newHarness(t, nil)
	e := h.e
	guess := workload.NewK8s("shop", workload.OwnerDaemonSet, "web", "app", true)
	real := workload.NewK8s("shop", workload.OwnerJob, "web", "app", false)
	e.Observe(guess, execFact("/bin/sh", "sha256:1"), nil)
	e.Flush()
	e.Merge(guess, real)
	e.Flush()
	if _, ok := e.Mode(guess.ID); ok {
		t.Fatal("the guessed workload survived the merge")
	}
	if r := e.Observe(real, execFact("/bin/sh", "sha256:1"), nil); r != Known {
		t.Fatalf("merged item: %v", r)
	}
	if err := e.SetMode(real.ID, Monitor); err != nil {
		t.Fatal(err)
	}
	if err := e.Reset(real.ID); err != nil {
		t.Fatal(err)
	}
	if m, _ := e.Mode(real.ID); m != Learn {
		t.Fatalf("mode after reset: %v", m)
	}
	if r := e.Observe(real, execFact("/bin/sh", "sha256:1"), nil); r != Learned {
		t.Fatalf("after reset: %v", r)
	}
	if err := e.Reset("k8s/x/pod/y/z"); !errors.Is(err, ErrUnknownWorkload) {
		t.Fatalf("reset of an unknown workload: %v", err)
	}
}

func TestKnownPathDoesNotAllocate(t *testing.T) {
	h := newHarness(t, nil)
	e := h.e
	facts := realisticFacts()
	for _, f := range facts {
		e.Observe(web, f, nil)
	}
	e.Flush()
	for _, f := range facts {
		if r := e.Observe(web, f, nil); r != Known {
			t.Fatalf("%s: %v", f.Value(), r)
		}
		if n := testing.AllocsPerRun(100, func() { e.Observe(web, f, nil) }); n != 0 {
			t.Errorf("Observe(%s) allocates %v times", f.Value(), n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { e.AllowExec(web, "/usr/bin/curl", "sha256:aa") }); n != 0 {
		t.Errorf("AllowExec allocates %v times", n)
	}
}

// realisticFacts is one kind of everything a small web service does.
func realisticFacts() []*Fact {
	return []*Fact{
		execFact("/usr/bin/curl", "sha256:aa"),
		{Dim: DimExecEdge, Parent: "/bin/sh", Path: "/usr/bin/curl"},
		{Dim: DimFileWrite, Path: "/var/log/nginx/access.log"},
		{Dim: DimFileWrite, Path: "/tmp/tmp.Xy3kPq9ZaB"},
		{Dim: DimFileRead, Path: "/var/run/secrets/kubernetes.io/serviceaccount/token"},
		{Dim: DimListen, Port: 8080, Proto: ProtoTCP},
		{Dim: DimOutbound, Addr: netip.MustParseAddr("10.96.0.10"), Port: 53, Proto: ProtoUDP},
		{Dim: DimInbound, Addr: netip.MustParseAddr("10.244.1.7"), Port: 8080, Proto: ProtoTCP},
		{Dim: DimSyscall, Num: 257},
		{Dim: DimCapability, Num: capNetBindService},
		{Dim: DimUser, Num: 101},
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// TestChurnStaysBounded: a workload writing a new random file name every
// time, for 10,000 files, ends with a small baseline, and its store rows
// follow.
func TestChurnStaysBounded(t *testing.T) {
	h := newHarness(t, nil)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 10000 {
		h.e.Observe(web, &Fact{Dim: DimFileWrite, Path: "/tmp/" + randWord(rng, 12, "abcdefghijklmnopqrstuvwxyz")}, nil)
		h.e.Observe(web, &Fact{Dim: DimOutbound, Addr: netip.AddrFrom4([4]byte{10, byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))}),
			Port: 443, Proto: ProtoTCP}, nil)
		if i%100 == 0 {
			h.e.Flush()
		}
	}
	h.e.Flush()
	s := h.e.Workloads()[0]
	if n := s.Entries["files_written"]; n > 2 {
		t.Errorf("10,000 random names left %d file patterns", n)
	}
	if n := s.Entries["outbound"]; n > h.e.s().cfg.Dimensions.Outbound.Cap {
		t.Errorf("10,000 random peers left %d entries", n)
	}
	t.Logf("entries: %v", s.Entries)
}
