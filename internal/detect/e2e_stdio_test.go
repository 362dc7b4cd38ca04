package detect

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// reverseShellSession runs helperReverseShell against ln and talks to the
// shell it starts: one line echoed, then EOF, which ends it. It returns
// the shell's end of the connection.
func reverseShellSession(t *testing.T, ln net.Listener) net.Addr {
	t.Helper()
	helper := exec.Command(os.Args[0])
	helper.Env = append(os.Environ(), helperEnv+"=revshell", "VIGIL_DETECT_ADDR="+ln.Addr().String())
	var stderr strings.Builder
	helper.Stderr = &stderr
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	if err := ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	conn, err := ln.Accept()
	if err != nil {
		t.Fatalf("accept: %v (helper: %s)", err, stderr.String())
	}
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintln(conn, "ping"); err != nil {
		t.Fatal(err)
	}
	echo, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || echo != "ping\n" {
		t.Fatalf("the shell answered %q, %v", echo, err)
	}
	if err := conn.Close(); err != nil { // EOF on the shell's stdin ends it
		t.Fatal(err)
	}
	if err := helper.Wait(); err != nil {
		t.Fatalf("helper: %v: %s", err, stderr.String())
	}
	return conn.RemoteAddr()
}

const execStdioRules = `
- rule: E2E shell started on a socket
  desc: a shell whose stdin and stdout are a TCP socket when it starts, from the exec record alone
  condition: >
    evt.type = execve and proc.name = sh and proc.ppid = TESTPID
    and proc.stdin.type = ipv4 and proc.stdout.type in (ipv4, ipv6)
  output: "shell stdin=%proc.stdin.type stdout=%proc.stdout.type stderr=%proc.stderr.type remote=%proc.stdout.rip:%proc.stdin.rport stderr_port=%proc.stderr.rport"
  priority: CRITICAL

- rule: E2E shell started on pipes
  desc: the same test's shell without a socket
  condition: evt.type = execve and proc.name = sh and proc.ppid = TESTPID and proc.stdin.type = pipe
  output: "shell stdin=%proc.stdin.type stdout=%proc.stdout.type stderr=%proc.stderr.type remote=%proc.stdin.rip"
  priority: NOTICE
`

// TestReverseShellAtExec runs the reverse-shell shape with rules that read
// the standard fds only at exec: the kernel's exec record must say what
// they are and where the socket leads, with no fd table kept and none of
// the fd-changing calls captured.
func TestReverseShellAtExec(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	rules := strings.ReplaceAll(execStdioRules, "TESTPID", fmt.Sprint(os.Getpid()))
	col, rs, _ := startDetector(t, rules)
	if rs.NeedsFDTable {
		t.Fatal("rules reading the standard fds at exec ask for the fd table")
	}
	for _, call := range []string{"close", "dup2", "dup3", "fcntl"} {
		if slices.Contains(rs.Syscalls, call) {
			t.Fatalf("the filter captures %s: %v", call, rs.Syscalls)
		}
	}

	piped := exec.Command("/bin/sh", "-c", "true")
	piped.Stdin = strings.NewReader("")
	var out strings.Builder
	piped.Stdout, piped.Stderr = &out, &out
	if err := piped.Run(); err != nil {
		t.Fatalf("sh on pipes: %v: %s", err, out.String())
	}
	client := reverseShellSession(t, ln)

	got := col.waitFor(t, "E2E shell started on a socket", "E2E shell started on pipes")
	port := ln.Addr().(*net.TCPAddr).Port
	want := map[string]string{
		"E2E shell started on a socket": fmt.Sprintf("shell stdin=ipv4 stdout=ipv4 stderr=ipv4 remote=127.0.0.1:%d stderr_port=%d", port, port),
		"E2E shell started on pipes":    "shell stdin=pipe stdout=pipe stderr=pipe remote=<NA>",
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	for rule, text := range want {
		if n := len(got[rule]); n != 1 {
			t.Errorf("%s fired %d times", rule, n)
		}
		if out := got[rule][0].Output; out != text {
			t.Errorf("%s rendered\n %q\nwant\n %q (shell's end %s)", rule, out, text, client)
		}
	}
}
