package proc

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vigilsec/vigil/internal/event"
)

func TestSeedFakeTree(t *testing.T) {
	root := fakeTree(t)
	tbl := New()
	if err := tbl.Seed(root); err != nil {
		t.Fatal(err)
	}
	if s := tbl.Stats(); s.Seeded != 5 || s.Entries != 5 || s.SeedErrors != 0 {
		t.Fatalf("stats %+v", s)
	}

	p := mustGet(t, tbl, 701)
	if p.Comm != "my) (proc x" || p.Exe != "/home/alice/my) (proc x" || p.Cwd != "/tmp" || p.PPID != 700 {
		t.Fatalf("701: %+v %+v", p, *p.Image)
	}
	if got := p.Argv(); !slices.Equal(got, []string{"./my) (proc x", "--flag", "", "two words"}) {
		t.Fatalf("argv %q", got)
	}
	if p.UID != 1000 || p.EUID != 0 || p.GID != 1000 || p.EGID != 0 || p.CapEffective != 3 ||
		p.CapPermitted != 3 || p.LoginUID != 1000 || p.SID != 700 || p.PGID != 701 || p.TTY != 34816 ||
		p.MntNS != 4026531841 || !p.Seeded || p.Flags != event.ExecLoginUIDSet || p.ExecTime != 0 {
		t.Fatalf("701 ids: %+v %+v", p, *p.Image)
	}
	if p.StartTime == 0 {
		t.Fatal("start time not derived from stat")
	}

	k := mustGet(t, tbl, 2)
	if k.Comm != "kthreadd" || k.Exe != "" || k.Args != "" || k.LoginUID != NoLoginUID {
		t.Fatalf("kernel thread: %+v", *k.Image)
	}
	if m := mustGet(t, tbl, 702); m.Flags&event.ExecFromMemfd == 0 {
		t.Fatalf("memfd exe not flagged: %+v", *m.Image)
	}
	if init := mustGet(t, tbl, 1); init.LoginUID != NoLoginUID || init.Args != "/sbin/init\x00splash" {
		t.Fatalf("init: %+v", *init.Image)
	}
	if got := pids(tbl.AppendAncestors(nil, 701, 0)); !slices.Equal(got, []uint32{700, 1}) {
		t.Fatalf("ancestors %v", got)
	}
}

func TestSeedSkipsVanishedAndCountsErrors(t *testing.T) {
	root := fakeTree(t)
	// 800 vanished between the listing and the reads: its directory is empty.
	if err := os.MkdirAll(filepath.Join(root, "800"), 0o755); err != nil {
		t.Fatal(err)
	}
	// 801 has a stat line that cannot be parsed.
	writeFile(t, filepath.Join(root, "801", "stat"), "801 garbage\n")
	// 802 has a status file whose Uid line is broken; the entry survives.
	writeFakeProc(t, root, fakeProc{pid: 802, ppid: 1, comm: "odd", exe: "/odd", args: []string{"odd"}})
	writeFile(t, filepath.Join(root, "802", "status"), "Uid:\tnope\n")

	// 803's comm cannot be read (here: it is a directory); the name from
	// stat stands in and the error is counted.
	writeFakeProc(t, root, fakeProc{pid: 803, ppid: 1, comm: "fallback", exe: "/fb", args: []string{"fb"}})
	if err := os.Remove(filepath.Join(root, "803", "comm")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "803", "comm"), 0o755); err != nil {
		t.Fatal(err)
	}

	tbl := New()
	if err := tbl.Seed(root); err != nil {
		t.Fatal(err)
	}
	s := tbl.Stats()
	if s.SeedErrors != 3 || s.Seeded != 7 {
		t.Fatalf("stats %+v", s)
	}
	if _, ok := tbl.Get(800); ok {
		t.Fatal("vanished process seeded")
	}
	if p := mustGet(t, tbl, 802); p.Exe != "/odd" {
		t.Fatalf("802: %+v", *p.Image)
	}
	if p := mustGet(t, tbl, 803); p.Comm != "fallback" || p.Exe != "/fb" {
		t.Fatalf("803: %+v", *p.Image)
	}
}

func TestSeedKeepsEventEntries(t *testing.T) {
	root := fakeTree(t)
	tbl := New()
	ev, _ := execEvent(execSpec{pid: 700, ppid: 1, comm: "zsh", exe: "/usr/bin/zsh", args: "zsh"})
	apply(tbl, ev)
	if err := tbl.Seed(root); err != nil {
		t.Fatal(err)
	}
	if p := mustGet(t, tbl, 700); p.Comm != "zsh" || p.Seeded {
		t.Fatalf("seeding overwrote a fresher entry: %+v", *p.Image)
	}
}

func TestSeedMissingRoot(t *testing.T) {
	tbl := New()
	if err := tbl.Seed(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Fatal("no error for a missing root")
	}
}

func TestSeedTruncatesLongArgs(t *testing.T) {
	root := filepath.Join(t.TempDir(), "proc")
	long := make([]byte, maxSeedArgs*2)
	for i := range long {
		long[i] = 'a'
	}
	writeFakeProc(t, root, fakeProc{pid: 9, ppid: 1, comm: "long", exe: "/long", args: []string{"long", string(long)}})
	tbl := New()
	if err := tbl.Seed(root); err != nil {
		t.Fatal(err)
	}
	p := mustGet(t, tbl, 9)
	if len(p.Args) != maxSeedArgs || p.Flags&event.ExecArgsTruncated == 0 {
		t.Fatalf("args %d bytes, flags %b", len(p.Args), p.Flags)
	}
}
