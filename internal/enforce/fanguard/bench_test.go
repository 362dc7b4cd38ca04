package fanguard

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/internal/testutil"
)

func allowAll(cacheable bool) Decider {
	return func(*Request) Verdict { return Verdict{Allow: true, Cacheable: cacheable} }
}

// reportLatency adds the guard's decision latency to the benchmark output.
func reportLatency(b *testing.B, g *Guard) {
	h := g.Stats().Latency
	b.ReportMetric(float64(h.P50().Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(h.P99().Nanoseconds())/1e3, "p99-µs")
}

// BenchmarkExec runs /bin/true from a tmpfs without a listener, and with one
// whose Decider allows, with the cache off and on.
func BenchmarkExec(b *testing.B) {
	testutil.Require(b, os.Geteuid() == 0, "root")
	mnt := testMount(b)
	bin := testutil.CopyExecutable(b, "/bin/true", filepath.Join(mnt, "true"))
	run := func(b *testing.B) {
		for b.Loop() {
			if err := exec.Command(bin).Run(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("no-listener", run)
	for _, c := range []struct {
		name      string
		cacheSize int
	}{{"listener-nocache", -1}, {"listener-cache", 0}} {
		b.Run(c.name, func(b *testing.B) {
			g := startGuard(b, Config{Decide: allowAll(true), CacheSize: c.cacheSize})
			if err := g.WatchExecMount(mnt); err != nil {
				b.Fatal(err)
			}
			run(b)
			reportLatency(b, g)
			if err := g.Close(); err != nil {
				b.Error(err)
			}
		})
	}
}

// BenchmarkOpen opens and closes one file, unwatched and watched. "own"
// takes the own-process path; the others treat this process as a stranger,
// so every open goes to the Decider or the cache.
func BenchmarkOpen(b *testing.B) {
	testutil.Require(b, os.Geteuid() == 0, "root")
	mnt := testMount(b)
	path := filepath.Join(mnt, "file")
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B) {
		for b.Loop() {
			fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				b.Fatal(err)
			}
			unix.Close(fd)
		}
	}
	b.Run("unwatched", run)
	for _, c := range []struct {
		name      string
		cacheSize int
		stranger  bool
	}{{"watched-own", -1, false}, {"watched-decider", -1, true}, {"watched-cache", 0, true}} {
		b.Run(c.name, func(b *testing.B) {
			g := startGuardWith(b, Config{Decide: allowAll(true), CacheSize: c.cacheSize}, func(g *Guard) {
				if c.stranger {
					g.self = 0
				}
			})
			if err := g.WatchOpen(path); err != nil {
				b.Fatal(err)
			}
			run(b)
			reportLatency(b, g)
			if err := g.Close(); err != nil {
				b.Error(err)
			}
		})
	}
}
