package baseline

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func identityOf(t testing.TB, id *Identifier, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := id.FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestIdentity(t *testing.T) {
	id := NewIdentifier("", 0, 1, 0)
	defer id.Close()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	content := []byte("#!/bin/sh\necho hello\n")
	for _, path := range []string{a, b} {
		if err := os.WriteFile(path, content, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	want := fmt.Sprintf("sha256:%x", sha256.Sum256(content))
	// Copies (replicas on other mounts) agree.
	if ia, ib := identityOf(t, id, a), identityOf(t, id, b); ia != want || ib != want {
		t.Fatalf("identities %s %s, want %s", ia, ib, want)
	}
	if identityOf(t, id, a); id.Stats().Hits != 1 {
		t.Errorf("second read of a was not a cache hit: %+v", id.Stats())
	}
	// Same size, same mtime, other content: a new identity, because the
	// ctime moved.
	st, _ := os.Stat(a)
	if err := os.WriteFile(a, []byte("#!/bin/sh\necho HELLO\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(a, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	if got := identityOf(t, id, a); got == want {
		t.Fatal("a replaced file kept its identity")
	}
}

func TestIdentityOfLargeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("ELF"); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxHashSize + 1); err != nil { // sparse: nothing is written
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	id := NewIdentifier("", 0, 1, 0)
	defer id.Close()
	got := identityOf(t, id, path)
	if !strings.HasPrefix(got, "sha256-head:") || !strings.HasSuffix(got, fmt.Sprintf(":%d", MaxHashSize+1)) {
		t.Fatalf("identity of a large file: %s", got)
	}
}

func TestOfProcess(t *testing.T) {
	id := NewIdentifier(fakeProcRoot(t), 0, 1, 0)
	defer id.Close()
	if _, _, st := id.OfProcess(1 << 30); st != IDUnavailable {
		t.Fatalf("a missing process: %v", st)
	}
	_, p, st := id.OfProcess(4242)
	if st != IDPending {
		t.Fatalf("first look: %v", st)
	}
	done := make(chan string, 1)
	if !id.Hash(p, func(v string) { done <- v }) {
		t.Fatal("Hash refused")
	}
	var v string
	select {
	case v = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("no identity")
	}
	got, _, st := id.OfProcess(4242)
	if st != IDCached || got != v || !strings.HasPrefix(v, "sha256:") {
		t.Fatalf("second look: %v %q, hashed %q", st, got, v)
	}
}

// BenchmarkIdentity measures what identities cost: hashing a file the
// first time (per MB/s) and the cached lookup of an exec.
func BenchmarkIdentity(b *testing.B) {
	path := "/usr/bin/true"
	if exe, err := os.Executable(); err == nil {
		path = exe // a realistically large binary
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Skip(err)
	}
	b.Run("hash", func(b *testing.B) {
		f, _ := os.Open(path)
		defer f.Close()
		b.SetBytes(st.Size())
		for b.Loop() {
			if _, err := digest(f, st.Size()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached-exec", func(b *testing.B) {
		id := NewIdentifier(fakeProcRoot(b), 0, 1, 0)
		defer id.Close()
		_, p, _ := id.OfProcess(4242)
		done := make(chan string)
		id.Hash(p, func(v string) { done <- v })
		<-done
		b.ReportAllocs()
		for b.Loop() {
			if _, _, st := id.OfProcess(4242); st != IDCached {
				b.Fatal(st)
			}
		}
	})
}
