package store

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func openT(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func row(id, mode string) Workload {
	return Workload{ID: id, Name: "n " + id, Kind: "k8s", Mode: mode, Created: 1, LearnSince: 2, ModeChanged: 3, LastChange: 4}
}

func TestRoundTripAndPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "baselines")
	s := openT(t, dir)
	err := s.Apply([]Change{
		{Op: OpPutWorkload, Workload: row("a", "learn")},
		{Op: OpAddItem, Workload: Workload{ID: "a"}, Item: Item{Dim: "executables", A: "/bin/sh", B: "sha256:1", FirstSeen: 7}},
		{Op: OpAddItem, Workload: Workload{ID: "a"}, Item: Item{Dim: "executables", A: "/bin/ls", FirstSeen: 8}},
		{Op: OpAddItem, Workload: Workload{ID: "a"}, Item: Item{Dim: "executables", A: "/bin/ls", FirstSeen: 9}},
		{Op: OpDeleteItem, Workload: Workload{ID: "a"}, Item: Item{Dim: "executables", A: "/bin/sh", B: "sha256:1"}},
		{Op: OpPutWorkload, Workload: row("b", "monitor")},
		{Op: OpAddItem, Workload: Workload{ID: "orphan"}, Item: Item{Dim: "users", A: "0"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].ID != "a" || recs[1].Mode != "monitor" {
		t.Fatalf("records: %+v", recs)
	}
	if got := recs[0].Items; len(got) != 1 || got[0].A != "/bin/ls" || got[0].FirstSeen != 8 {
		t.Fatalf("items of a: %+v", got)
	}
	if err := s.Apply([]Change{{Op: OpDeleteWorkload, Workload: Workload{ID: "a"}}}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Get("a"); ok || err != nil {
		t.Fatalf("a after delete: %v %v", ok, err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, s.Path(): 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", path, st.Mode().Perm(), want)
		}
	}
	if st, err := os.Stat(s.Path() + "-wal"); err == nil && st.Mode().Perm() != 0o600 {
		t.Errorf("WAL has mode %v", st.Mode().Perm())
	}
}

func TestTightensPermissions(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s := openT(t, dir)
	for path, want := range map[string]os.FileMode{dir: 0o700, s.Path(): 0o600} {
		if st, _ := os.Stat(path); st.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", path, st.Mode().Perm(), want)
		}
	}
}

func TestCorruptFileIsMovedAside(t *testing.T) {
	for name, damage := range map[string]func(t *testing.T, path string){
		"garbage": func(t *testing.T, path string) {
			removeJournal(t, path)
			if err := os.WriteFile(path, []byte(strings.Repeat("not a database ", 500)), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"truncated": func(t *testing.T, path string) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			removeJournal(t, path)
			if err := os.WriteFile(path, data[:len(data)*2/3], 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"overwritten pages": func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := f.Stat()
			if _, err := f.WriteAt([]byte(strings.Repeat("\xff", int(st.Size())-4096)), 4096); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			removeJournal(t, path)
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			var changes []Change
			for i := range 2000 {
				id := "w" + string(rune('a'+i%26))
				changes = append(changes, Change{Op: OpPutWorkload, Workload: row(id, "learn")},
					Change{Op: OpAddItem, Workload: Workload{ID: id}, Item: Item{Dim: "files_written", A: strings.Repeat("/x", 20) + string(rune(i))}})
			}
			if err := s.Apply(changes); err != nil {
				t.Fatal(err)
			}
			path := s.Path()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			damage(t, path)

			s, err = Open(dir)
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("Open of a damaged store: %v, want a CorruptError", err)
			}
			defer s.Close()
			if !strings.Contains(ce.Error(), path) || !strings.Contains(ce.MovedTo, ".corrupt-") {
				t.Errorf("error %q, moved to %q", ce, ce.MovedTo)
			}
			if _, err := os.Stat(ce.MovedTo); err != nil {
				t.Errorf("the damaged file is not where the error says: %v", err)
			}
			// The fresh store works.
			if err := s.Apply([]Change{{Op: OpPutWorkload, Workload: row("new", "learn")}}); err != nil {
				t.Fatal(err)
			}
			if recs, err := s.Load(); err != nil || len(recs) != 1 {
				t.Fatalf("fresh store: %v %v", recs, err)
			}
		})
	}
}

// removeJournal removes the store's WAL and shared-memory files, which a
// clean close may already have removed.
func removeJournal(t *testing.T, path string) {
	t.Helper()
	for _, p := range []string{path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
	}
}

func TestNewerSchemaIsLeftAlone(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	if _, err := s.db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir)
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open: %v, want ErrNewerSchema", err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Fatal("the store was moved")
	}
}

func TestUnreadableDirectoryIsNotCorruption(t *testing.T) {
	if os.Geteuid() == 0 {
		// Root reads anything; use a path under a file instead.
		f := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(filepath.Join(f, "sub")); err == nil || errors.As(err, new(*CorruptError)) {
			t.Fatalf("Open under a file: %v", err)
		}
		return
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0); err != nil {
		t.Fatal(err)
	}
	defer func() {
		// Restored so that t.TempDir can remove it.
		if err := os.Chmod(dir, 0o700); err != nil {
			t.Error(err)
		}
	}()
	if _, err := Open(filepath.Join(dir, "sub")); err == nil || errors.As(err, new(*CorruptError)) {
		t.Fatalf("Open in an unreadable directory: %v", err)
	}
}

func TestWriterBatchesAndSyncs(t *testing.T) {
	s := openT(t, t.TempDir())
	w := s.NewWriter(16, time.Hour, nil)
	defer w.Close()
	if !w.Enqueue(Change{Op: OpPutWorkload, Workload: row("a", "learn")}) {
		t.Fatal("Enqueue refused")
	}
	for i := range 15 {
		w.Enqueue(Change{Op: OpAddItem, Workload: Workload{ID: "a"}, Item: Item{Dim: "users", A: string(rune('0' + i))}})
	}
	// The queue is full and the interval is long: the next one drops.
	dropped := 0
	for range 100 {
		if !w.Enqueue(Change{Op: OpAddItem, Workload: Workload{ID: "a"}, Item: Item{Dim: "users", A: "x"}}) {
			dropped++
		}
	}
	if err := w.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec, ok, err := s.Get("a")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if len(rec.Items) < 15 {
		t.Errorf("%d items after Sync", len(rec.Items))
	}
	if st := w.Stats(); st.Dropped != uint64(dropped) || st.Written == 0 {
		t.Errorf("stats %+v, dropped %d", st, dropped)
	}
	w.Close()
	if w.Enqueue(Change{Op: OpPutWorkload, Workload: row("b", "learn")}) {
		t.Error("Enqueue after Close succeeded")
	}
	if err := w.Put(context.Background(), Change{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Put after Close: %v", err)
	}
}

func TestWriterFlushesWithinInterval(t *testing.T) {
	s := openT(t, t.TempDir())
	w := s.NewWriter(1024, 100*time.Millisecond, nil)
	defer w.Close()
	w.Enqueue(Change{Op: OpPutWorkload, Workload: row("a", "learn")})
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if _, ok, _ := s.Get("a"); ok {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the change was not written within the interval")
}
