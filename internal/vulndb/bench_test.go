package vulndb

import (
	"bytes"
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkImportGoVulnDB imports the whole Go vulnerability database
// into a fresh store per iteration.
func BenchmarkImportGoVulnDB(b *testing.B) {
	osvDir := goVulnDBDir(b)
	dir := b.TempDir()
	cpu0 := cpuTime()
	for i := 0; b.Loop(); i++ {
		db, err := Open(filepath.Join(dir, "db"+string(rune('a'+i%26))+".db"))
		if err != nil {
			b.Fatal(err)
		}
		st, err := db.Import(context.Background(), osvDir)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(st.Records), "records")
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user+system CPU time: on a shared machine it
// says more about the work done than wall time does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru) // RUSAGE_SELF into a valid struct cannot fail
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// goVulnDBForMatch imports the Go vulndb once and builds one query per
// indexed module, at a version inside many records' ranges.
func goVulnDBForMatch(b *testing.B) (*DB, []Query) {
	osvDir := goVulnDBDir(b)
	db, err := Open(filepath.Join(b.TempDir(), "vulndb.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Import(context.Background(), osvDir); err != nil {
		b.Fatal(err)
	}
	var qs []Query
	err = db.bolt.View(func(tx *bolt.Tx) error {
		last := ""
		return tx.Bucket(bucketIndex).Bucket([]byte("Go")).ForEach(func(k, _ []byte) error {
			name, _, _ := bytes.Cut(k, []byte{0})
			if string(name) != last {
				last = string(name)
				qs = append(qs, Query{Name: last, Version: "v0.1.0", Ecosystem: "Go"})
			}
			return nil
		})
	})
	if err != nil {
		b.Fatal(err)
	}
	return db, qs
}

func benchmarkMatch(b *testing.B, cold bool) {
	db, qs := goVulnDBForMatch(b)
	ctx := context.Background()
	findings := 0
	cpu0 := cpuTime()
	for b.Loop() {
		if cold {
			db.cache.clear()
		}
		f, _, err := db.Match(ctx, qs)
		if err != nil {
			b.Fatal(err)
		}
		findings = len(f)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(qs)), "ns/package")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*len(qs)), "cpu-ns/package")
	b.ReportMetric(float64(len(qs)), "packages")
	b.ReportMetric(float64(findings), "findings")
}

// BenchmarkMatchCold matches every Go module in the database with an
// empty decoded-entry cache, as the first scan after opening does.
func BenchmarkMatchCold(b *testing.B) { benchmarkMatch(b, true) }

// BenchmarkMatchWarm is the same with the cache filled, as a rescan is.
func BenchmarkMatchWarm(b *testing.B) { benchmarkMatch(b, false) }
