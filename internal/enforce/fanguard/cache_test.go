package fanguard

import (
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/testutil"
)

// TestCacheReuseAndInvalidation: a cacheable verdict answers the next exec of
// the same file without the Decider; a rewritten file, another scope and
// ResetCache each bring the Decider back.
func TestCacheReuseAndInvalidation(t *testing.T) {
	requireRoot(t)
	mnt := testMount(t)
	bin := testutil.CopyExecutable(t, "/bin/true", filepath.Join(mnt, "true"))
	rec := &recorder{decide: func(*Request) Verdict { return Verdict{Allow: true, Cacheable: true} }}
	var scope atomic.Uint64
	g := startGuard(t, Config{Decide: rec.Decide, Scope: func(uint32) uint64 { return scope.Load() }})
	if err := g.WatchExecMount(mnt); err != nil {
		t.Fatal(err)
	}
	run := func(step string, wantCalls int) {
		t.Helper()
		if err := exec.Command(bin).Run(); err != nil {
			t.Fatalf("%s: exec: %v", step, err)
		}
		if n := rec.calls(); n != wantCalls {
			t.Fatalf("%s: Decider called %d times in all, want %d", step, n, wantCalls)
		}
	}
	run("first exec", 1)
	run("second exec", 1)

	// Rewrite the file and give it a new mtime explicitly: timestamps are
	// coarse, and two writes in one tick may share one.
	testutil.CopyExecutable(t, "/bin/true", bin)
	var st unix.Stat_t
	if err := unix.Stat(bin, &st); err != nil {
		t.Fatal(err)
	}
	later := time.Unix(st.Mtim.Sec+1, 0)
	if err := unix.UtimesNano(bin, []unix.Timespec{unix.NsecToTimespec(later.UnixNano()), unix.NsecToTimespec(later.UnixNano())}); err != nil {
		t.Fatal(err)
	}
	run("exec after rewrite", 2)
	run("exec after rewrite, again", 2)

	scope.Store(7)
	run("exec in another scope", 3)
	run("exec in that scope, again", 3)

	g.ResetCache()
	run("exec after ResetCache", 4)
	run("exec after ResetCache, again", 4)

	st2 := g.Stats()
	want := Stats{ExecEvents: 8, Allowed: 8, Decided: 4, CacheHits: 4}
	if !sameCounts(st2, want) {
		t.Errorf("stats %+v, want %+v", counts(st2), counts(want))
	}
}

// TestCacheNotCacheable: a verdict without Cacheable is asked again.
func TestCacheNotCacheable(t *testing.T) {
	requireRoot(t)
	mnt := testMount(t)
	bin := testutil.CopyExecutable(t, "/bin/true", filepath.Join(mnt, "true"))
	rec := &recorder{decide: func(*Request) Verdict { return Verdict{Allow: true} }}
	g := startGuard(t, Config{Decide: rec.Decide})
	if err := g.WatchExecMount(mnt); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := exec.Command(bin).Run(); err != nil {
			t.Fatal(err)
		}
	}
	if n := rec.calls(); n != 2 {
		t.Fatalf("Decider called %d times, want 2", n)
	}
}

// TestVerdictCacheLRU checks eviction order, TTL and the reset generation
// on the cache itself.
func TestVerdictCacheLRU(t *testing.T) {
	c := newVerdictCache(2, time.Minute)
	now := time.Unix(1000, 0)
	k := func(ino uint64) cacheKey { return cacheKey{kind: Exec, dev: 1, ino: ino} }
	gen := c.generation()
	c.put(k(1), true, gen, now)
	c.put(k(2), false, gen, now)
	if allow, ok := c.get(k(1), now); !ok || !allow {
		t.Fatal("entry 1 missing")
	}
	c.put(k(3), true, gen, now) // evicts 2, the least recently used
	if _, ok := c.get(k(2), now); ok {
		t.Error("entry 2 survived eviction")
	}
	if allow, ok := c.get(k(3), now); !ok || !allow {
		t.Error("entry 3 missing")
	}
	if _, ok := c.get(k(1), now.Add(time.Minute)); ok {
		t.Error("entry 1 outlived its TTL")
	}
	// The expired slot is reused before entry 3 is evicted.
	c.put(k(4), false, gen, now)
	if _, ok := c.get(k(3), now); !ok {
		t.Error("entry 3 evicted while a free slot existed")
	}
	if allow, ok := c.get(k(4), now); !ok || allow {
		t.Error("entry 4 missing or wrong")
	}
	c.reset()
	if c.len() != 0 {
		t.Errorf("%d entries after reset", c.len())
	}
	c.put(k(5), true, gen, now) // decided before the reset: refused
	if _, ok := c.get(k(5), now); ok {
		t.Error("a verdict from before the reset was cached")
	}
	c.put(k(5), true, c.generation(), now)
	if _, ok := c.get(k(5), now); !ok {
		t.Error("a fresh verdict was not cached")
	}
	// Many more keys than slots: the cache stays bounded.
	for i := range uint64(100) {
		c.put(k(100+i), true, c.generation(), now)
	}
	if c.len() != 2 {
		t.Errorf("cache holds %d entries, bound is 2", c.len())
	}
}
