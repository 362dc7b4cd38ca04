package proc

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/vigilsec/vigil/internal/testutil"
)

// writeFakeFDs gives the fake process at root/pid an fd directory, fdinfo
// files and the socket tables of its network namespace.
func writeFakeFDs(tb testing.TB, root string, pid uint32) {
	dir := filepath.Join(root, fmt.Sprint(pid))
	fds := []struct {
		fd    int
		link  string
		flags string
	}{
		{0, "/dev/pts/0", "0100002"},
		{1, "pipe:[111]", "01"},
		{2, "socket:[222]", "02000002"},
		{3, "socket:[333]", "02"},
		{4, "anon_inode:[eventfd]", "02004002"},
		{5, "/memfd:stage2 (deleted)", "02"},
		{6, "socket:[444]", "02"},
		{7, "/home", "0200000"},
		{8, "socket:[999]", "02"},
		{9, "net:[4026531840]", "0"},
		{10, "socket:[555]", "02"},
		{11, "socket:[666]", "02"},
		{12, "anon_inode:bpf-prog", "02000002"},
	}
	for _, f := range fds {
		symlink(tb, f.link, filepath.Join(dir, "fd", fmt.Sprint(f.fd)))
		writeFile(tb, filepath.Join(dir, "fdinfo", fmt.Sprint(f.fd)), "pos:\t0\nflags:\t"+f.flags+"\nmnt_id:\t15\n")
	}
	symlink(tb, "net:[4026531840]", filepath.Join(dir, "ns", "net"))
	head := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	writeFile(tb, filepath.Join(dir, "net", "tcp"), head+
		"   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0 100 0 0 10 0\n"+
		"   1: 0F02000A:0016 0902000A:C350 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0 100 0 0 10 0\n"+
		"   2: 0F02000A:9C40 22D8B85D:01BB 01 00000000:00000000 00:00000000 00000000     0        0 555 1 0 100 0 0 10 0\n")
	writeFile(tb, filepath.Join(dir, "net", "tcp6"), head+
		"   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 444 1 0 100 0 0 10 0\n")
	writeFile(tb, filepath.Join(dir, "net", "udp"), head+
		"   0: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 666 2 0 0\n")
	writeFile(tb, filepath.Join(dir, "net", "udp6"), head)
	writeFile(tb, filepath.Join(dir, "net", "raw"), head)
	writeFile(tb, filepath.Join(dir, "net", "raw6"), head)
	writeFile(tb, filepath.Join(dir, "net", "unix"), "Num       RefCount Protocol Flags    Type St Inode Path\n"+
		"00000000f4d26549: 00000002 00000000 00010000 0001 01 333 /run/docker.sock\n")
	writeFile(tb, filepath.Join(dir, "net", "netlink"), "sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode\n")
}

func TestSeedFDsFromFakeProc(t *testing.T) {
	root := fakeTree(t)
	writeFakeFDs(t, root, 700)
	tbl := New()
	if err := tbl.Seed(root); err != nil {
		t.Fatal(err)
	}
	if st := tbl.Stats(); st.SeedErrors != 0 || st.FDs != 13 {
		t.Fatalf("stats %+v", st)
	}
	s := fds(t, tbl, 700)
	wantFD(t, s, 0, FDFile, "/dev/pts/0", false)
	if e := wantFD(t, s, 1, FDPipe, "pipe:[111]", false); e.Ino != 111 || e.Flags&FDFromProc == 0 {
		t.Errorf("pipe %+v", e)
	}
	// sshd's side of a connection: its local port 22 is one that listens.
	ssh := wantFD(t, s, 2, FDIPv4, "", true)
	if cl, sv, _, _ := ssh.Ends(); ssh.Role != RoleServer || cl.String() != "10.0.2.9:50000" || sv.String() != "10.0.2.15:22" || ssh.L4Proto() != "tcp" {
		t.Errorf("ssh connection %+v", ssh)
	}
	if l := wantFD(t, s, 3, FDUnix, "/run/docker.sock", false); l.Role != RoleServer || l.Flags&FDListening == 0 {
		t.Errorf("unix listener %+v", l)
	}
	wantFD(t, s, 4, FDEvent, "anon_inode:[eventfd]", true)
	wantFD(t, s, 5, FDMemfd, "memfd:stage2", false)
	if l := wantFD(t, s, 6, FDIPv6, "", false); l.Local.String() != "[::]:8080" || l.Flags&FDListening == 0 {
		t.Errorf("tcp6 listener %+v", l)
	}
	wantFD(t, s, 7, FDDirectory, "/home", false)
	if u := wantFD(t, s, 8, FDUnknown, "socket:[999]", false); u.Ino != 999 {
		t.Errorf("unlisted socket %+v", u)
	}
	wantFD(t, s, 9, FDUnknown, "net:[4026531840]", false)
	if c := wantFD(t, s, 10, FDIPv4, "", false); c.Role != RoleClient || c.Remote.String() != "93.184.216.34:443" {
		t.Errorf("outgoing connection %+v", c)
	}
	if u := wantFD(t, s, 11, FDIPv4, "", false); u.L4Proto() != "udp" || u.Remote.IsValid() || u.Role != RoleServer {
		t.Errorf("bound udp socket %+v", u)
	}
	wantFD(t, s, 12, FDBPF, "anon_inode:bpf-prog", true)

	// Processes without an fd directory get an empty table.
	if n := fds(t, tbl, 1).Len(); n != 0 {
		t.Errorf("pid 1 has %d fds", n)
	}
}

// TestSeedRealFDs starts a process with an open file, a pipe and a TCP
// connection before the table exists, and checks what seeding finds.
func TestSeedRealFDs(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	testutil.Require(t, err == nil, "a sleep program in PATH")
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sockFile, err := conn.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	defer sockFile.Close()
	path := filepath.Join(t.TempDir(), "held-open")
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()

	cmd := exec.Command(sleep, "3600")
	cmd.ExtraFiles = []*os.File{file, sockFile} // fds 3 and 4
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.KillAndWait(cmd) })
	var st syscall.Stat_t
	if err := syscall.Fstat(int(stdin.(*os.File).Fd()), &st); err != nil {
		t.Fatal(err)
	}

	tbl := New()
	if err := tbl.Seed("/proc"); err != nil {
		t.Fatal(err)
	}
	s := fds(t, tbl, uint32(cmd.Process.Pid))
	wantFD(t, s, 0, FDPipe, fmt.Sprintf("pipe:[%d]", st.Ino), false)
	realPath, _ := filepath.EvalSymlinks(path)
	wantFD(t, s, 3, FDFile, realPath, false)
	sock := wantFD(t, s, 4, FDIPv4, "", false)
	cl, sv, cok, sok := sock.Ends()
	if !cok || !sok || cl.String() != conn.LocalAddr().String() || sv.String() != ln.Addr().String() ||
		sock.L4Proto() != "tcp" || sock.Flags&FDConnected == 0 {
		t.Fatalf("socket %+v: client %v server %v, want %v -> %v", sock, cl, sv, conn.LocalAddr(), ln.Addr())
	}
	// The test's own listener is in the table too, as a server.
	self := fds(t, tbl, uint32(os.Getpid()))
	found := false
	self.Each(func(fd int32, e *FD, _ bool) bool {
		if e.Type == FDIPv4 && e.Flags&FDListening != 0 && e.Local.String() == ln.Addr().String() {
			found = true
		}
		return !found
	})
	if !found {
		t.Error("the test's listening socket was not seeded")
	}
}
