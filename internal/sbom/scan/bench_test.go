package scan

import (
	"context"
	"os"
	"testing"
)

// dropCaches empties the page, dentry and inode caches so that the next
// scan reads from disk: the "cold" case. It needs root; without it the
// benchmark is skipped rather than silently measuring a warm scan.
func dropCaches(b *testing.B) {
	b.Helper()
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0o200); err != nil {
		b.Skipf("cannot drop caches for a cold run: %v", err)
	}
}

// BenchmarkHost inventories this machine. Run with -benchtime 1x: one
// scan walks the whole root file system.
func BenchmarkHost(b *testing.B) {
	for _, cold := range []bool{true, false} {
		name := "warm"
		if cold {
			name = "cold"
		}
		b.Run(name, func(b *testing.B) {
			if !cold {
				if _, err := Host(context.Background(), Options{}); err != nil { // fill the caches
					b.Fatal(err)
				}
			}
			var pkgs, files int
			for b.Loop() {
				if cold {
					b.StopTimer()
					dropCaches(b)
					b.StartTimer()
				}
				var last Progress
				inv, err := Host(context.Background(), Options{Progress: func(p Progress) { last = p }})
				if err != nil {
					b.Fatal(err)
				}
				pkgs, files = len(inv.Packages), last.Files
			}
			b.ReportMetric(float64(pkgs), "packages")
			b.ReportMetric(float64(files), "files")
		})
	}
}
