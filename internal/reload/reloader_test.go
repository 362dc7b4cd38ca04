package reload

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/detect"
	"github.com/vigilsec/vigil/internal/outputs"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/sensor"
	"github.com/vigilsec/vigil/internal/testutil"
)

func ruleYAML(name, cond string) string {
	return "- rule: " + name + "\n  desc: d\n  condition: " + cond + "\n  output: \"" + name + " %proc.name\"\n  priority: notice\n\n"
}

// syncBuffer is a log destination safe for the reloader's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// rig is a reloader over real parts: the kernel filter of a loaded
// sensor, a process table, a detector and file outputs.
type rig struct {
	r      *Reloader
	det    *detect.Detector
	sensor *sensor.Sensor
	table  *proc.Table
	log    *syncBuffer
}

func newRig(t *testing.T, cfgPath string, load func() (*config.Config, error)) *rig {
	t.Helper()
	testutil.RequireBPF(t)
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := detect.Load(detect.LoadOptionsFrom(cfg))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sensor.Open(sensor.Config{Syscalls: rs.Syscalls})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	al, err := outputs.NewManager(cfg, io.Discard, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { al.Close() })
	g := &rig{det: detect.New(detect.Config{Program: rs.Program, Emit: al.Emit}), sensor: s, table: proc.New(), log: &syncBuffer{}}
	g.table.SetTrackFDs(false)
	g.r = New(Config{Log: slog.New(slog.NewTextHandler(g.log, nil)), LoadConfig: load, ConfigPath: cfgPath,
		Detector: g.det, Kernel: s, FDs: g.table, Outputs: al}, cfg, rs, false)
	return g
}

func (g *rig) ruleNames() []string {
	var out []string
	for _, r := range g.det.Program().Rules() {
		out = append(out, r.Name)
	}
	return out
}

// TestReloadSwitchesRulesAndFilter reloads to rules on other syscalls:
// the detector runs the new rules and the kernel filter captures exactly
// what they need; then a broken file leaves both as they were.
func TestReloadSwitchesRulesAndFilter(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rules, []byte(ruleYAML("open", "evt.type = openat and fd.name = /x")), 0o644); err != nil {
		t.Fatal(err)
	}
	load := func() (*config.Config, error) {
		c := fileConfig(filepath.Join(dir, "alerts.json"))
		c.Rules = []string{rules}
		return c, nil
	}
	g := newRig(t, "", load)
	if err := os.WriteFile(rules, []byte(ruleYAML("mkdir", "evt.type = mkdirat")+ruleYAML("stdout", "evt.type = openat and proc.stdout.name = /dev/null")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := g.r.Reload("test"); err != nil {
		t.Fatal(err)
	}
	if got := g.ruleNames(); !slices.Equal(got, []string{"mkdir", "stdout"}) {
		t.Errorf("rules %v", got)
	}
	// proc.stdout needs fd tables, so the filter has the fd calls too.
	want, _ := detect.Syscalls(g.det.Program())
	if got := g.sensor.Syscalls(); !slices.Equal(got, want) || !slices.Contains(got, "mkdirat") || !slices.Contains(got, "close") {
		t.Errorf("filter %v, want %v", got, want)
	}
	if !strings.Contains(g.log.String(), "tracking starts now") {
		t.Errorf("fd tracking start not logged:\n%s", g.log)
	}

	if err := os.WriteFile(rules, []byte(ruleYAML("bad", "evt.type = openat and and proc.name = x")), 0o644); err != nil {
		t.Fatal(err)
	}
	err := g.r.Reload("test")
	if err == nil || err.Error() != rules+`:3:36: error: rule "bad": expected a condition, found 'and'` {
		t.Fatalf("error %v", err)
	}
	if got := g.ruleNames(); !slices.Equal(got, []string{"mkdir", "stdout"}) {
		t.Errorf("rules after a failed reload %v", got)
	}
	if got := g.sensor.Syscalls(); !slices.Equal(got, want) {
		t.Errorf("filter after a failed reload %v", got)
	}
	if st := g.r.Stats(); st.Successes != 1 || st.Failures != 1 || st.RulesLoaded != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestReloadRestartKeys: a reload that changes a key needing a restart
// says so and applies the rest.
func TestReloadRestartKeys(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rules, []byte(ruleYAML("open", "evt.type = openat")), 0o644); err != nil {
		t.Fatal(err)
	}
	shards := 2
	load := func() (*config.Config, error) {
		c := fileConfig(filepath.Join(dir, "alerts.json"))
		c.Rules, c.Shards = []string{rules}, shards
		return c, nil
	}
	g := newRig(t, "", load)
	shards = 8
	if err := g.r.Reload("test"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(g.log.String(), `level=WARN msg="reload: configuration key changed; it takes effect on restart" trigger=test key=shards`) {
		t.Errorf("log:\n%s", g.log)
	}
}

// fileConfig is the default configuration with the file output alone.
func fileConfig(path string) *config.Config {
	c := config.Default()
	c.Outputs.Stdout.Enabled = false
	c.Outputs.File.Enabled = true
	c.Outputs.File.Path = path
	c.Outputs.File.QueueSize = 1 << 16
	return c
}

func waitStats(t *testing.T, r *Reloader, what string, ok func(Stats) bool) {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); !ok(r.Stats()); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s: %+v", what, r.Stats())
		}
	}
}

// TestWatchConfigMapSwap watches a rule file mounted the way Kubernetes
// mounts a ConfigMap (the file is a symlink through ..data, and an update
// swaps ..data) and a configuration file replaced by rename: each change
// reloads once the burst is over.
func TestWatchConfigMapSwap(t *testing.T) {
	dir := t.TempDir()
	mount := filepath.Join(dir, "rules.d")
	if err := os.MkdirAll(filepath.Join(mount, "..2024_1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mount, "..2024_1", "rules.yaml"), []byte(ruleYAML("v1", "evt.type = openat")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..2024_1", filepath.Join(mount, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..data/rules.yaml", filepath.Join(mount, "rules.yaml")); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "vigil.yaml")
	if err := os.WriteFile(cfgPath, []byte("shards: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	load := func() (*config.Config, error) {
		c, err := config.Load(cfgPath, true, nil)
		if err != nil {
			return nil, err
		}
		c.Outputs = fileConfig(filepath.Join(dir, "alerts.json")).Outputs
		c.Rules = []string{filepath.Join(mount, "rules.yaml")}
		return c, nil
	}
	g := newRig(t, cfgPath, load)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); g.r.Run(ctx, nil, true, 100*time.Millisecond) }()
	defer func() { cancel(); <-done }()
	<-g.r.watching
	swap := func(version string, rules string) {
		d := filepath.Join(mount, "..2024_"+version)
		tmp := filepath.Join(mount, "..data_tmp")
		err := os.MkdirAll(d, 0o755)
		if err == nil {
			err = os.WriteFile(filepath.Join(d, "rules.yaml"), []byte(rules), 0o644)
		}
		if err == nil {
			err = os.Symlink("..2024_"+version, tmp)
		}
		if err == nil {
			err = os.Rename(tmp, filepath.Join(mount, "..data"))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	swap("2", ruleYAML("v2", "evt.type = openat"))
	waitStats(t, g.r, "the ConfigMap reload", func(s Stats) bool { return s.Successes >= 1 })
	if got := g.ruleNames(); !slices.Equal(got, []string{"v2"}) {
		t.Errorf("rules %v", got)
	}
	// A burst of saves of the configuration (each a rename over it) is
	// one reload, or at least fewer reloads than saves.
	before := g.r.Stats().Successes
	for i := range 20 {
		tmp := cfgPath + ".tmp"
		if err := os.WriteFile(tmp, []byte("shards: 1\nrate_limit:\n  burst: "+string(rune('1'+i%9))+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, cfgPath); err != nil {
			t.Fatal(err)
		}
	}
	waitStats(t, g.r, "the configuration reload", func(s Stats) bool { return s.Successes > before })
	if n := g.r.Stats().Successes - before; n >= 20 {
		t.Errorf("%d reloads for 20 saves in a burst", n)
	}
}

// TestReloadKeepsFDCallsOnceTracking: after rules that needed fd tables
// are replaced by rules that do not, the kernel still captures the calls
// that keep the tables true.
func TestReloadKeepsFDCallsOnceTracking(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rules, []byte(ruleYAML("stdout", "evt.type = openat and proc.stdout.name = /dev/null")), 0o644); err != nil {
		t.Fatal(err)
	}
	load := func() (*config.Config, error) {
		c := fileConfig(filepath.Join(dir, "alerts.json"))
		c.Rules = []string{rules}
		return c, nil
	}
	g := newRig(t, "", load)
	g.r.trackFDs = true // as the agent starts for rules that need fd tables
	if err := os.WriteFile(rules, []byte(ruleYAML("mkdir", "evt.type = mkdirat")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := g.r.Reload("test"); err != nil {
		t.Fatal(err)
	}
	got := g.sensor.Syscalls()
	for _, name := range append(proc.FDSyscalls(), "mkdirat") {
		if !slices.Contains(got, name) {
			t.Errorf("filter %v lacks %s", got, name)
		}
	}
}
