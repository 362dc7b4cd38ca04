package proc

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeProc describes one /proc/<pid> directory for a fake tree.
type fakeProc struct {
	pid, ppid, sid, pgid, tty uint32
	comm, exe, cwd            string // empty exe means a kernel thread
	args                      []string
	uid, euid, gid, egid      uint32
	capEff, capPrm            uint64
	loginuid                  string // empty: no loginuid file
	start                     uint64
}

func writeFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func symlink(tb testing.TB, target, path string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		tb.Fatal(err)
	}
}

// writeFakeProc lays out fp under root the way procfs presents it. Links
// may dangle: only their text matters.
func writeFakeProc(tb testing.TB, root string, fp fakeProc) {
	tb.Helper()
	dir := filepath.Join(root, fmt.Sprint(fp.pid))
	writeFile(tb, filepath.Join(dir, "stat"), fmt.Sprintf(
		"%d (%s) S %d %d %d %d -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 %d 1000 100 18446744073709551615\n",
		fp.pid, fp.comm, fp.ppid, fp.pgid, fp.sid, fp.tty, fp.start))
	writeFile(tb, filepath.Join(dir, "comm"), fp.comm+"\n")
	writeFile(tb, filepath.Join(dir, "status"), fmt.Sprintf(
		"Name:\t%s\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\nUid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\n"+
			"CapInh:\t0000000000000000\nCapPrm:\t%016x\nCapEff:\t%016x\n",
		fp.comm, fp.pid, fp.pid, fp.ppid, fp.uid, fp.euid, fp.euid, fp.euid,
		fp.gid, fp.egid, fp.egid, fp.egid, fp.capPrm, fp.capEff))
	cmdline := ""
	if len(fp.args) > 0 {
		cmdline = strings.Join(fp.args, "\x00") + "\x00"
	}
	writeFile(tb, filepath.Join(dir, "cmdline"), cmdline)
	if fp.exe != "" {
		symlink(tb, fp.exe, filepath.Join(dir, "exe"))
	}
	cwd := fp.cwd
	if cwd == "" {
		cwd = "/"
	}
	symlink(tb, cwd, filepath.Join(dir, "cwd"))
	symlink(tb, "mnt:[4026531841]", filepath.Join(dir, "ns", "mnt"))
	if fp.loginuid != "" {
		writeFile(tb, filepath.Join(dir, "loginuid"), fp.loginuid)
	}
	writeFile(tb, filepath.Join(dir, "cgroup"), "0::/user.slice\n")
}

// fakeTree builds init, a kernel thread, a shell and a child with an
// awkward name.
func fakeTree(tb testing.TB) string {
	root := filepath.Join(tb.TempDir(), "proc")
	for _, fp := range []fakeProc{
		{pid: 1, comm: "systemd", exe: "/usr/lib/systemd/systemd", args: []string{"/sbin/init", "splash"},
			sid: 1, pgid: 1, capEff: 0x1ffffffffff, capPrm: 0x1ffffffffff, loginuid: "4294967295", start: 1},
		{pid: 2, comm: "kthreadd", start: 1},
		{pid: 700, ppid: 1, comm: "bash", exe: "/usr/bin/bash", args: []string{"-bash"}, cwd: "/home/alice",
			sid: 700, pgid: 700, tty: 34816, uid: 1000, euid: 1000, gid: 1000, egid: 1000, loginuid: "1000", start: 5000},
		{pid: 701, ppid: 700, comm: "my) (proc x", exe: "/home/alice/my) (proc x", cwd: "/tmp",
			args: []string{"./my) (proc x", "--flag", "", "two words"}, sid: 700, pgid: 701, tty: 34816,
			uid: 1000, euid: 0, gid: 1000, egid: 0, capEff: 0x3, capPrm: 0x3, loginuid: "1000", start: 6000},
		{pid: 702, ppid: 700, comm: "memfd", exe: "/memfd:payload (deleted)", args: []string{"x"}, start: 6100},
	} {
		writeFakeProc(tb, root, fp)
	}
	// Things that are not processes.
	writeFile(tb, filepath.Join(root, "self", "stat"), "junk")
	writeFile(tb, filepath.Join(root, "meminfo"), "MemTotal: 1 kB\n")
	return root
}
