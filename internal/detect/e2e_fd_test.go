package detect

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/agent"
	"github.com/vigilsec/vigil/internal/fields"
	"github.com/vigilsec/vigil/internal/ktime"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/sensor"
	"github.com/vigilsec/vigil/internal/testutil"
)

// startDetector loads rules, checks them, and runs the real agent with a
// detector over them.
func startDetector(t *testing.T, rules string) (*collector, *RuleSet, *agent.Agent) {
	t.Helper()
	testutil.RequireBPF(t)
	rs := loadText(t, rules)
	if len(rs.Diagnostics) > 0 {
		t.Fatalf("diagnostics:\n%s", rs.Diagnostics)
	}
	col := &collector{t: t}
	table := proc.New()
	env := &fields.Env{Table: table, Clock: ktime.NewClock()}
	det := New(Config{Program: rs.Program, Env: env, Emit: col.emit})
	a, err := agent.Start(agent.Config{Sensor: sensor.Config{Syscalls: rs.Syscalls}, TrackFDs: rs.NeedsFDTable, Table: table, Handler: det.Handle})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { quietStop(t, a) })
	return col, rs, a
}

// quietStop stops capturing syscalls and lets the ring buffer drain before
// stopping the agent. Sensor.Close closes the ring-buffer reader while Run
// may still be between two reads of it (a race in the sensor, reported
// separately); these tests capture busy calls such as read and write, and
// stopping under that load makes the race likely.
func quietStop(t testing.TB, a *agent.Agent) {
	if err := a.Sensor.SetSyscalls(nil); err != nil {
		t.Error(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := a.Stop(); err != nil {
		t.Error(err)
	}
}

const reverseShellRules = `
- rule: E2E reverse shell
  desc: a shell whose stdin is a TCP socket
  condition: evt.type = execve and proc.name = sh and proc.stdin.type = ipv4 and proc.ppid = TESTPID
  output: "shell stdin=%proc.stdin.type %proc.stdin.name stdout=%proc.stdout.type %proc.stdout.name stderr=%proc.stderr.type %proc.stderr.name"
  priority: CRITICAL

- rule: E2E shell reads its socket
  desc: the shell reads fd 0, which the fd table knows is the connection
  condition: >
    evt.type = read and proc.name = sh and fd.num = 0 and fd.typechar = 4 and fd.l4proto = tcp
    and fd.sip = 127.0.0.1 and fd.sport = PORT and fd.connected = true and proc.ppid = TESTPID
  output: "read fd=%evt.arg.fd name=%fd.name client=%fd.cip:%fd.cport local=%fd.lport remote=%fd.rport"
  priority: NOTICE

- rule: E2E shell writes its socket
  desc: the shell writes fd 1
  condition: evt.type = write and proc.name = sh and fd.num = 1 and fd.type = ipv4 and proc.ppid = TESTPID
  output: "write %fd.name size=%evt.arg.size"
  priority: NOTICE

- rule: E2E socket onto stdin
  desc: dup2 of a TCP socket onto fd 0
  condition: evt.type = dup2 and evt.arg.newfd startswith "0(" and fd.type = ipv4 and proc.ppid = TESTPID
  output: "%evt.args"
  priority: NOTICE
`

// TestReverseShellStdin runs the reverse-shell shape against a listener
// the test owns: a child connects, dup2s the socket onto 0, 1 and 2 and
// execs a shell. The shell's exec must show its stdio as that exact
// connection, and its reads and writes on fds 0 and 1 must too.
func TestReverseShellStdin(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	rules := strings.NewReplacer("TESTPID", fmt.Sprint(os.Getpid()), "PORT", fmt.Sprint(port)).Replace(reverseShellRules)
	col, rs, _ := startDetector(t, rules)
	for _, call := range []string{"close", "dup2", "dup3", "fcntl", "socket", "connect", "read", "write"} {
		if !slices.Contains(rs.Syscalls, call) {
			t.Fatalf("the filter lacks %s: %v", call, rs.Syscalls)
		}
	}

	client := reverseShellSession(t, ln)

	tuple := client.String() + "->" + ln.Addr().String()
	got := col.waitFor(t, "E2E reverse shell", "E2E shell reads its socket", "E2E shell writes its socket", "E2E socket onto stdin")
	want := map[string]string{
		"E2E reverse shell":           fmt.Sprintf("shell stdin=ipv4 %s stdout=ipv4 %s stderr=ipv4 %s", tuple, tuple, tuple),
		"E2E shell reads its socket":  fmt.Sprintf("read fd=0(<4t>%s) name=%s client=%s local=%d remote=%d", tuple, tuple, client, client.(*net.TCPAddr).Port, port),
		"E2E shell writes its socket": fmt.Sprintf("write %s size=5", tuple),
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	for rule, text := range want {
		if out := got[rule][0].Output; out != text {
			t.Errorf("%s rendered\n %q\nwant\n %q", rule, out, text)
		}
	}
	if n := len(got["E2E reverse shell"]); n != 1 {
		t.Errorf("the reverse shell rule fired %d times", n)
	}
	dup := got["E2E socket onto stdin"][0].Output
	if wantDup := fmt.Sprintf("res=0(<4t>%s) oldfd=", tuple); !strings.HasPrefix(dup, wantDup) || !strings.HasSuffix(dup, fmt.Sprintf(" newfd=0(<4t>%s)", tuple)) {
		t.Errorf("dup2 rendered %q", dup)
	}
}

const familyRules = `
- rule: E2E ptrace attach
  desc: ptrace attach to another process
  condition: evt.type = ptrace and evt.arg.request contains PTRACE_ATTACH and proc.ppid = TESTPID
  output: "ptrace %evt.arg.request res=%evt.res"
  priority: WARNING

- rule: E2E unshare mount namespace
  desc: a new mount namespace
  condition: evt.type = unshare and evt.arg.flags contains CLONE_NEWNS and proc.ppid = TESTPID
  output: "unshare %evt.arg.flags"
  priority: NOTICE

- rule: E2E mount nosuid
  desc: a mount with nosuid at the test's directory
  condition: evt.type = mount and evt.arg.flags contains MS_NOSUID and evt.arg.dir = DIR
  output: "mount %evt.arg.dev on %evt.arg.dir type=%evt.arg.type flags=%evt.arg.flags res=%evt.res"
  priority: NOTICE

- rule: E2E lazy unmount
  desc: umount2 with MNT_DETACH
  condition: evt.type = umount2 and evt.arg.flags = MNT_DETACH and evt.arg.name = DIR
  output: "umount2 %evt.arg.name %evt.arg.flags"
  priority: NOTICE

- rule: E2E memfd
  desc: an anonymous memory file
  condition: evt.type = memfd_create and evt.arg.name = vigil-e2e and evt.arg.flags contains MFD_CLOEXEC and proc.ppid = TESTPID
  output: "memfd %evt.arg.name %evt.arg.flags %evt.arg.res %fd.type %fd.name"
  priority: NOTICE

- rule: E2E packet socket
  desc: a raw packet socket
  condition: evt.type = socket and evt.arg.domain = AF_PACKET and proc.ppid = TESTPID
  output: "socket %evt.arg.domain %evt.arg.type %evt.arg.proto"
  priority: NOTICE

- rule: E2E kill
  desc: SIGKILL to a child
  condition: evt.type = kill and evt.arg.sig = SIGKILL and proc.ppid = TESTPID
  output: "kill %evt.arg.sig"
  priority: NOTICE
`

// TestSyscallFamiliesOnRealEvents checks symbolic argument rendering on
// real calls: rules match with contains and = on flags and enumerations
// as they do in Falco.
func TestSyscallFamiliesOnRealEvents(t *testing.T) {
	dir := t.TempDir()
	rules := strings.NewReplacer("TESTPID", fmt.Sprint(os.Getpid()), "DIR", dir).Replace(familyRules)
	col, _, _ := startDetector(t, rules)
	helper := exec.Command(os.Args[0])
	helper.Env = append(os.Environ(), helperEnv+"=families", "VIGIL_DETECT_DIR="+dir)
	if out, err := helper.CombinedOutput(); err != nil {
		t.Fatalf("helper: %v: %s", err, out)
	}
	names := []string{"E2E ptrace attach", "E2E unshare mount namespace", "E2E mount nosuid", "E2E lazy unmount", "E2E memfd", "E2E packet socket", "E2E kill"}
	got := col.waitFor(t, names...)
	col.mu.Lock()
	defer col.mu.Unlock()
	want := map[string]*regexp.Regexp{
		"E2E ptrace attach":           regexp.MustCompile(`^ptrace PTRACE_ATTACH res=SUCCESS$`),
		"E2E unshare mount namespace": regexp.MustCompile(`^unshare CLONE_NEWNS$`),
		"E2E mount nosuid":            regexp.MustCompile(`^mount vigil-e2e on ` + regexp.QuoteMeta(dir) + ` type=tmpfs flags=MS_NOSUID\|MS_NODEV res=SUCCESS$`),
		"E2E lazy unmount":            regexp.MustCompile(`^umount2 ` + regexp.QuoteMeta(dir) + ` MNT_DETACH$`),
		"E2E memfd":                   regexp.MustCompile(`^memfd vigil-e2e MFD_CLOEXEC \d+\(<m>memfd:vigil-e2e\) memfd memfd:vigil-e2e$`),
		"E2E packet socket":           regexp.MustCompile(`^socket AF_PACKET SOCK_RAW 768$`),
		"E2E kill":                    regexp.MustCompile(`^kill SIGKILL$`),
	}
	for _, name := range names {
		if out := got[name][0].Output; !want[name].MatchString(out) {
			t.Errorf("%s rendered %q", name, out)
		}
	}
}
